package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// whatIsWhere prints every room the bot is in, with its members, as the homeserver
// has them. It logs in to the bot's account with a session of its own (without
// encryption: it reads room state only), and logs that session out again.
func (sb *sandbox) whatIsWhere(ctx context.Context) (err error) {
	cli, err := mautrix.NewClient(sb.hs.URL(), "", "")
	if err != nil {
		return err
	}
	if _, err := cli.Login(ctx, &mautrix.ReqLogin{
		Type:                     mautrix.AuthTypePassword,
		Identifier:               mautrix.UserIdentifier{Type: mautrix.IdentifierTypeUser, User: sb.botID.String()},
		Password:                 sb.cfg.Bot.Password,
		InitialDeviceDisplayName: "sandbox: what is where",
		StoreCredentials:         true,
	}); err != nil {
		return fmt.Errorf("log in to look around: %w", err)
	}
	defer func() {
		if _, lerr := cli.Logout(ctx); lerr != nil && err == nil {
			err = lerr
		}
	}()
	joined, err := cli.JoinedRooms(ctx)
	if err != nil {
		return err
	}
	type row struct{ name, enc, members string }
	var rows []row
	for _, r := range joined.JoinedRooms {
		members, err := cli.JoinedMembers(ctx, r)
		if err != nil {
			return err
		}
		var who []string
		for u := range members.Joined {
			if u != sb.botID {
				who = append(who, sb.tr.name(u))
			}
		}
		slices.Sort(who)
		var name event.RoomNameEventContent
		if err := cli.StateEvent(ctx, r, event.StateRoomName, "", &name); err != nil && !errors.Is(err, mautrix.MNotFound) {
			return err
		}
		if name.Name == "" {
			name.Name = "direct chat"
		}
		var enc event.EncryptionEventContent
		encrypted := "NOT ENCRYPTED"
		if err := cli.StateEvent(ctx, r, event.StateEncryption, "", &enc); err == nil && enc.Algorithm == id.AlgorithmMegolmV1 {
			encrypted = "encrypted"
		} else if err != nil && !errors.Is(err, mautrix.MNotFound) {
			return err
		}
		rows = append(rows, row{name.Name, encrypted, strings.Join(who, ", ")})
	}
	slices.SortFunc(rows, func(a, b row) int { return strings.Compare(a.name+a.members, b.name+b.members) })
	sb.tr.section(fmt.Sprintf("What is where: the %d rooms on the homeserver with the bot in them (and who else is)", len(rows)))
	for _, r := range rows {
		sb.tr.printf("  %-36s %-10s %s\n", r.name, r.enc, orNobody(r.members))
	}
	sb.tr.printf("\n  IRC has no rooms: the IRC requester talks to Switchboard by private message, and\n" +
		"  Switchboard sits in " + ircChannel + ", where it only points people to a private message.\n")
	return nil
}

func orNobody(s string) string {
	if s == "" {
		return "(nobody else: the bot alone)"
	}
	return s
}
