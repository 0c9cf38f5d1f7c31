package main

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"switchboard/internal/testenv"
)

// `make sandbox`, as a newcomer meets it: the guide gives every account with its
// password and three first steps, and the recovery key it prints for a volunteer is
// what lets a new login of theirs (Element's, here a scripted one) act: verified with
// it, that session's command is taken and its answer readable there.
func TestSandboxGuide(t *testing.T) {
	var out, logs lockedBuffer
	o := options{out: &out, log: zerolog.New(&logs).Level(zerolog.WarnLevel)}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	sb, err := start(ctx, o)
	if err != nil {
		t.Fatalf("the sandbox did not start: %v\nbot log:\n%s", err, logs.String())
	}
	defer sb.stop()
	sb.guide()
	guide := out.String()
	for _, k := range []string{"requester", "volunteer", "trainee", "staff", "staff2", "coordinator"} {
		m := sb.team[k]
		want := fmt.Sprintf(`(?m)— %s  password %s\n(  recovery key: .+\n)?  1\. .+\n  2\. .+\n  3\. .+\n`,
			regexp.QuoteMeta(m.id.String()), regexp.QuoteMeta(m.password))
		if !regexp.MustCompile(want).MatchString(guide) {
			t.Errorf("the guide lacks %s with a password and three steps:\n%s", m.id, guide)
		}
	}
	for _, want := range []string{sb.hs.URL(), sb.pager.URL(), "/connect 127.0.0.1 " + sb.irc.Addr()[len("127.0.0.1:"):],
		"/msg NickServ IDENTIFY requester requester-password", "!ack SB-", "!stats 7d"} {
		if !strings.Contains(guide, want) {
			t.Errorf("the guide lacks %q:\n%s", want, guide)
		}
	}

	vol := sb.team["volunteer"]
	m := regexp.MustCompile(`(?m)^Vera, .*\n  recovery key: (.+)$`).FindStringSubmatch(guide)
	if m == nil {
		t.Fatalf("no recovery key for Vera in the guide:\n%s", guide)
	}
	dsn, err := sb.pg.CreateDatabase(ctx, "client_volunteer_new_login")
	if err != nil {
		t.Fatal(err)
	}
	login, err := testenv.Dial(ctx, sb.hs.URL(), vol.id, vol.password, dsn, testenv.Unverified())
	if err != nil {
		t.Fatal(err)
	}
	defer login.Close()
	if err := login.VerifyWithRecoveryKey(ctx, strings.TrimSpace(m[1])); err != nil {
		t.Fatal(err)
	}
	// Vera writes, and if the bot says it could not read her (the new session's
	// key reached it late, which a loaded machine shows now and then), she writes
	// again, as the bot asks her to.
	var got testenv.Msg
	for attempt := 1; ; attempt++ {
		if _, err := login.Send(ctx, vol.dm, "!me"); err != nil {
			t.Fatal(err)
		}
		wctx, wcancel := context.WithTimeout(ctx, stepTimeout)
		got, err = login.WaitFor(wctx, vol.dm, func(m testenv.Msg) bool {
			return strings.Contains(m.Body, "Languages: en") || strings.Contains(m.Body, "verified session") ||
				strings.Contains(m.Body, "could not read your last message")
		})
		wcancel()
		if err != nil {
			t.Fatalf("the new login got no answer it could read: %v\nbot log:\n%s", err, logs.String())
		}
		if !strings.Contains(got.Body, "could not read") || attempt == 2 {
			break
		}
	}
	if !strings.Contains(got.Body, "Languages: en") {
		t.Fatalf("the login verified with the guide's recovery key was refused: %q", got.Body)
	}
}
