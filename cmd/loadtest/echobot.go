package main

import (
	"context"
	"database/sql"
	"os"
	"os/signal"
	"syscall"

	"github.com/rs/zerolog"
	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/crypto/cryptohelper"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// runEchoBot is the floor Switchboard is measured against: a bare mautrix bot with the
// same E2EE stack (cryptohelper, goolm, PostgreSQL crypto store) that answers every
// message with its own text and does nothing else. It runs as its own process so its
// memory can be read like the bot's.
func runEchoBot(hsURL, user, password, dsn string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := zerolog.New(os.Stderr).Level(zerolog.WarnLevel)
	cli, err := mautrix.NewClient(hsURL, id.UserID(user), "")
	if err != nil {
		return err
	}
	cli.Log = log
	raw, err := sql.Open("postgres", dsn)
	if err != nil {
		return err
	}
	// The same bound as Switchboard's defaults (database.max-open-conns 20, idle 4).
	raw.SetMaxOpenConns(20)
	raw.SetMaxIdleConns(4)
	db, err := dbutil.NewWithDB(raw, "postgres")
	if err != nil {
		return err
	}
	helper, err := cryptohelper.NewCryptoHelper(cli, []byte("echo-bot-pickle-key"), db)
	if err != nil {
		return err
	}
	helper.DBAccountID = user
	helper.LoginAs = &mautrix.ReqLogin{
		Type:       mautrix.AuthTypePassword,
		Identifier: mautrix.UserIdentifier{Type: mautrix.IdentifierTypeUser, User: user},
		Password:   password,
	}
	if err := helper.Init(ctx); err != nil {
		return err
	}
	cli.Crypto = helper
	syncer := cli.Syncer.(*mautrix.DefaultSyncer)
	joined := map[id.RoomID]bool{}
	syncer.OnEventType(event.StateMember, func(ctx context.Context, evt *event.Event) {
		if evt.GetStateKey() == user && evt.Content.AsMember().Membership == event.MembershipInvite && !joined[evt.RoomID] {
			joined[evt.RoomID] = true
			_, _ = cli.JoinRoomByID(ctx, evt.RoomID)
		}
	})
	syncer.OnEventType(event.EventMessage, func(ctx context.Context, evt *event.Event) {
		if evt.Sender == cli.UserID {
			return
		}
		body := evt.Content.AsMessage().Body
		_, _ = cli.SendMessageEvent(ctx, evt.RoomID, event.EventMessage,
			&event.MessageEventContent{MsgType: event.MsgText, Body: body})
	})
	err = cli.SyncWithContext(ctx)
	if ctx.Err() != nil {
		return nil
	}
	return err
}
