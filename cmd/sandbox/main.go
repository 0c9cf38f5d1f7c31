// Command sandbox runs Switchboard on this machine with everything it needs: a
// throwaway PostgreSQL cluster, a Dendrite homeserver and an IRC network (InspIRCd with
// Atheme services) on 127.0.0.1, demo accounts and a staff room. It prints how to log in
// with any Matrix or IRC client. With -demo it plays a
// requester through a whole intake and prints the conversation, then stops.
//
// Everything lives in temporary directories and is deleted when the sandbox stops.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	_ "github.com/lib/pq"
	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/id"

	"switchboard/app"
	"switchboard/config"
	"switchboard/internal/testenv"
)

// Demo accounts. The sandbox's homeserver listens on 127.0.0.1 only.
var accounts = []struct{ localpart, password, role string }{
	{"requester", "requester-password", "a person asking for help"},
	{"volunteer", "volunteer-password", "a community volunteer; case offers are not built yet"},
	{"staff", "staff-password", "a staff member (in the staff room)"},
}

func main() {
	demo := flag.Bool("demo", false, "play a scripted requester through an intake, print it, and stop")
	verbose := flag.Bool("v", false, "show the bot's debug log")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *demo, *verbose); err != nil {
		fmt.Fprintln(os.Stderr, "sandbox:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, demo, verbose bool) error {
	say := func(f string, a ...any) { fmt.Printf(f+"\n", a...) }
	say("Starting PostgreSQL, Dendrite and IRC (the first run builds Dendrite; that takes a few minutes)…")
	pg, err := testenv.StartPostgres()
	if err != nil {
		return err
	}
	defer pg.Stop()
	hs, err := testenv.StartDendrite()
	if err != nil {
		return err
	}
	defer hs.Stop()
	ircNet, err := startIRC(ctx)
	if err != nil {
		return err
	}
	defer ircNet.Stop()

	botID, err := hs.Register(ctx, "switchboard", "bot-password")
	if err != nil {
		return err
	}
	users := map[string]id.UserID{}
	for _, a := range accounts {
		if users[a.localpart], err = hs.Register(ctx, a.localpart, a.password); err != nil {
			return err
		}
	}
	staff, err := dial(ctx, pg, hs, users["staff"], "staff-password")
	if err != nil {
		return err
	}
	defer staff.Close()
	staffRoom, err := staff.CreateRoom(ctx, "Switchboard staff", botID)
	if err != nil {
		return err
	}

	botDB, err := pg.CreateDatabase(ctx, "switchboard")
	if err != nil {
		return err
	}
	cfg := config.Defaults()
	cfg.Homeserver.URL = hs.URL()
	cfg.Bot.UserID, cfg.Bot.Password = botID.String(), "bot-password"
	cfg.Encryption.PickleKey = "sandbox-pickle-key-not-secret"
	cfg.Encryption.DataKey = "sandbox-data-key-not-secret-0123456789"
	cfg.Database.URL = botDB
	cfg.Service.StaffRoom = staffRoom.String()
	cfg.IRC = sandboxIRC(ircNet)
	if err := cfg.Validate(); err != nil {
		return err
	}
	level := zerolog.InfoLevel
	if demo && !verbose {
		level = zerolog.WarnLevel
	} else if verbose {
		level = zerolog.DebugLevel
	}
	log := zerolog.New(zerolog.ConsoleWriter{Out: os.Stderr, TimeFormat: time.TimeOnly}).Level(level).With().Timestamp().Logger()
	botCtx, stopBot := context.WithCancel(ctx)
	done := make(chan error, 1)
	ready := make(chan struct{})
	go func() { done <- app.Run(botCtx, &cfg, log, app.OnReady(func() { close(ready) })) }()
	defer func() { stopBot(); <-done }()
	select {
	case <-ready:
	case err := <-done:
		return fmt.Errorf("the bot did not start: %v", err)
	case <-ctx.Done():
		return nil
	}

	if demo {
		return playDemo(ctx, pg, hs, botID, users["requester"])
	}
	say("")
	say("Switchboard is running on a local homeserver.")
	say("")
	say("  Homeserver:  %s   (server name %q; plain HTTP, this machine only)", hs.URL(), hs.ServerName())
	say("  The bot:     %s", botID)
	for _, a := range accounts {
		say("  %-12s %s  password %s  (%s)", a.localpart+":", users[a.localpart], a.password, a.role)
	}
	say("  Staff room:  %s (the staff account is in it; new staff-route requests appear there)", staffRoom)
	say("")
	say("Log in with any Matrix client (Element Desktop, Element Web, gomuks, iamb, …): choose")
	say("\"other homeserver\", enter %s, and one of the accounts above.", hs.URL())
	say("As the requester, start a direct chat with %s and say hello.", botID)
	say("")
	printIRC(say, ircNet)
	say("")
	say("Press Ctrl-C to stop; all sandbox data is deleted then.")
	select {
	case <-ctx.Done():
	case err := <-done:
		done <- err
		return fmt.Errorf("the bot stopped: %v", err)
	}
	return nil
}

func dial(ctx context.Context, pg *testenv.Postgres, hs *testenv.Dendrite, user id.UserID, password string) (*testenv.Client, error) {
	dsn, err := pg.CreateDatabase(ctx, "client_"+strings.NewReplacer("@", "", ":", "_", "-", "_").Replace(string(user)))
	if err != nil {
		return nil, err
	}
	return testenv.Dial(ctx, hs.URL(), user, password, dsn)
}

// playDemo walks a requester through an everyday intake and prints both sides.
func playDemo(ctx context.Context, pg *testenv.Postgres, hs *testenv.Dendrite, botID, requesterID id.UserID) error {
	req, err := dial(ctx, pg, hs, requesterID, "requester-password")
	if err != nil {
		return err
	}
	defer req.Close()
	room, err := req.CreateDM(ctx, botID)
	if err != nil {
		return err
	}
	fmt.Printf("\n%s opened an encrypted direct chat with %s.\n\n", requesterID, botID)
	script := []struct{ text, until string }{
		{"hello", "1 of 4"},
		{"no", "2 of 4"},
		{"not sure?", "2 of 4"}, // an unclear answer is asked again
		{"no", "3 of 4"},
		{"no", "4 of 4"},
		{"no", "what happened"},
		{"Another editor follows me to every article and reverts my edits with rude comments.", "usernames"},
		{"Example_troll", "Which wiki"},
		{"en.wikipedia.org", "language"},
		{"English", "Shall I open"},
		{"yes", "Your request is open"},
		{"!status", "waiting for a volunteer"},
	}
	for _, step := range script {
		fmt.Printf("requester  > %s\n", step.text)
		if _, err := req.Send(ctx, room, step.text); err != nil {
			return err
		}
		for {
			wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			m, err := req.WaitFor(wctx, room, func(testenv.Msg) bool { return true })
			cancel()
			if err != nil {
				return fmt.Errorf("no answer to %q: %w", step.text, err)
			}
			lock := " "
			if m.Encrypted {
				lock = "🔒"
			}
			fmt.Printf("switchboard%s %s\n", lock, indent(m.Body))
			if strings.Contains(m.Body, step.until) {
				break
			}
		}
		fmt.Println()
	}
	fmt.Println("Every message above travelled end-to-end encrypted (🔒).")
	return nil
}

func indent(s string) string {
	return strings.ReplaceAll(s, "\n", "\n             ")
}
