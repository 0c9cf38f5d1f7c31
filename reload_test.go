package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"maunium.net/go/mautrix/id"

	"switchboard/internal/testenv"
)

// waitLog waits until the bot's log has n lines containing substr.
func waitLog(t *testing.T, p *proc, substr string, n int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for strings.Count(p.logs.String(), substr) < n {
		if time.Now().After(deadline) {
			t.Fatalf("the log never had %d× %q", n, substr)
		}
		select {
		case <-p.done:
			t.Fatalf("the bot exited while waiting for %q", substr)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// SIGHUP re-reads staff, the on-call chain and pager contacts without a restart; a
// bad file is refused with one line and the running configuration stays.
func TestReloadOnSIGHUP(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	hs := testenv.Homeserver(t)
	botID, password := hs.NewUser(t, "switchboard")
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	first := testenv.NewMatrixUser(t, "staffone")
	staffRoom, err := first.CreateRoom(ctx, "Staff", botID)
	if err != nil {
		t.Fatal(err)
	}
	second := testenv.NewMatrixUser(t, "stafftwo")
	ntfy := testenv.NewRecorder(t)
	cfgPath := filepath.Join(t.TempDir(), "config.yaml")
	dsn := testenv.NewDB(t)
	write := func(staff, chain, contacts string) {
		t.Helper()
		cfg := fmt.Sprintf(`homeserver: {url: %s}
bot: {user-id: "%s", password: %s}
encryption: {pickle-key: reload-test-pickle-key-0123, data-key: reload-test-data-key-0123456789abcdefghijklmn}
database: {url: "%s"}
service:
  staff-room: "%s"
  staff: [%s]
  on-call: {chain: [%s]}
pager:
  contacts: {%s}
metrics: {listen: "127.0.0.1:0"}
logging: {level: debug, format: json}
`, hs.URL(), botID, password, dsn, staffRoom, staff, chain, contacts)
		if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	q := func(c *testenv.Client) string { return `"` + c.UserID().String() + `"` }
	write(q(first), q(first), q(first)+`: {ntfy: "`+ntfy.URL()+`/first"}`)
	p := startProc(t, bin, cfgPath)
	// Written before the first sync is handled, a message would be history to the bot.
	waitReady(t, opsAddr(t, p, 60*time.Second), "leader", 90*time.Second)
	dm, err := second.CreateDM(ctx, id.UserID(botID))
	if err != nil {
		t.Fatal(err)
	}
	ask := func(want string) {
		t.Helper()
		if _, err := second.Send(ctx, dm, "!blocks"); err != nil {
			t.Fatal(err)
		}
		second.Expect(t, dm, want)
	}
	hup := func() {
		t.Helper()
		if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
	}
	// Not staff yet: a staff command is unknown to them.
	ask("do not know the command")

	write(q(first)+", "+q(second), q(second), q(second)+`: {ntfy: "`+ntfy.URL()+`/second"}`)
	hup()
	waitLog(t, p, "Configuration reloaded", 1, 30*time.Second)
	ask("Nobody is blocked")
	// The new chain and contacts page the second staff member.
	staffRouteRequest(t, ctx, id.UserID(botID), "alice")
	if pg := ntfy.WaitFor(t, 1, 60*time.Second)[0]; pg.Path != "/second" {
		t.Errorf("the page went to %s, not to the reloaded contact", pg.Path)
	}

	// A bad file: refused with one line naming the key; the old configuration stays.
	write(q(first)+`, "not-an-id"`, q(first), q(first)+`: {ntfy: "`+ntfy.URL()+`/first"}`)
	hup()
	waitLog(t, p, "Configuration not reloaded", 1, 30*time.Second)
	var refusal []string
	for _, l := range strings.Split(p.logs.String(), "\n") {
		if strings.Contains(l, "not-an-id") || strings.Contains(l, "not reloaded") {
			refusal = append(refusal, l)
		}
	}
	if len(refusal) != 1 || !strings.Contains(refusal[0], "service.staff") {
		t.Errorf("want one log line naming service.staff, got %q", refusal)
	}
	ask("Nobody is blocked")
	select {
	case <-p.done:
		t.Fatal("the bot exited on a bad reload")
	default:
	}
}
