package irc_test

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"switchboard/app"
	"switchboard/config"
	"switchboard/internal/testenv"
)

// logBuf is the whole bot's log; changed is closed and replaced at each write,
// so a test can wait for a log line instead of polling.
type logBuf struct {
	mu      sync.Mutex
	b       bytes.Buffer
	changed chan struct{}
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.changed != nil {
		close(l.changed)
		l.changed = nil
	}
	return l.b.Write(p)
}

func (l *logBuf) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// waitFor waits up to d until the log holds every one of substrs.
func (l *logBuf) waitFor(t *testing.T, d time.Duration, substrs ...string) {
	t.Helper()
	deadline := time.After(d)
	for {
		l.mu.Lock()
		if l.changed == nil {
			l.changed = make(chan struct{})
		}
		next, logs := l.changed, l.b.String()
		l.mu.Unlock()
		missing := ""
		for _, s := range substrs {
			if !strings.Contains(logs, s) {
				missing = s
			}
		}
		if missing == "" {
			return
		}
		select {
		case <-next:
		case <-deadline:
			t.Fatalf("no %q in the bot's log within %v", missing, d)
		}
	}
}

// The whole bot (app.Run, as main runs it) starts the IRC bridge when irc.server is
// set, and a requester on IRC is answered, with the bot's Matrix ID offered.
func TestAppServesIRC(t *testing.T) {
	t.Parallel()
	hs, n := testenv.Homeserver(t), testenv.IRCNetwork(t)
	userID, password := hs.NewUser(t, "switchboard")
	acct, ircPass := n.NewAccount(t, "sbapp")
	cfg := appConfig(t, hs, n, userID.String(), password, acct, ircPass)
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	runApp(t, &cfg).waitFor(t, 60*time.Second, "Connected to IRC")
	req, pass := n.NewAccount(t, "lena")
	c := testenv.NewIRCClient(t, n, req, req, pass)
	if err := c.Privmsg(acct, "hello"); err != nil {
		t.Fatal(err)
	}
	c.Expect(t, acct, "1 of 4")
	// The note may run over two lines: the first answer's paragraphs are packed.
	var first []string
	for _, m := range c.Messages() {
		first = append(first, m.Text)
	}
	if all := strings.Join(first, " "); !strings.Contains(all, "not end-to-end encrypted") || !strings.Contains(all, userID.String()) {
		t.Errorf("the bot's Matrix ID is not offered: %q", first)
	}
	for i := range 5 {
		start := time.Now()
		if err := c.Privmsg(acct, "!status"); err != nil {
			t.Fatal(err)
		}
		m := c.Expect(t, acct, "")
		t.Logf("round trip %d: first line after %v", i, m.Time.Sub(start))
		if !strings.Contains(m.Text, "1 of 4") { // the status and the question it restates fit on one line
			c.Expect(t, acct, "1 of 4")
		}
	}
}

// appConfig is the whole bot's configuration against the test homeserver and IRC
// network, with a fast flood bucket and the paste window off (scripted people answer
// faster than anyone reads). Callers add what they need, then validate.
func appConfig(t *testing.T, hs *testenv.Dendrite, n *testenv.IRC, userID, password, acct, ircPass string) config.Config {
	cfg := config.Defaults()
	cfg.Homeserver.URL = hs.URL()
	cfg.Bot.UserID, cfg.Bot.Password = userID, password
	cfg.Encryption.PickleKey = "test-pickle-key-0123456789"
	cfg.Encryption.DataKey = testenv.DataKey
	cfg.Database.URL = testenv.NewDB(t)
	cfg.IRC.Server, cfg.IRC.TLS, cfg.IRC.Nick, cfg.IRC.Account, cfg.IRC.Password = n.Addr(), false, acct, acct, ircPass
	cfg.IRC.FloodInterval, cfg.IRC.FloodBurst = config.Duration(20*time.Millisecond), 10
	cfg.IRC.PasteWindow = 0
	return cfg
}

// runApp runs the whole bot until the test ends; a failed test shows the log's tail.
func runApp(t *testing.T, cfg *config.Config) *logBuf {
	logs := &logBuf{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx, cfg, zerolog.New(logs).Level(zerolog.DebugLevel)) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("app.Run: %v", err)
		}
		if t.Failed() {
			l := logs.String()
			t.Logf("bot log (tail):\n%s", l[max(0, len(l)-8000):])
		}
	})
	return logs
}
