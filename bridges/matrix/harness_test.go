package matrix_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/id"

	"switchboard/app"
	"switchboard/config"
	"switchboard/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m, testenv.NeedPostgres, testenv.NeedDendrite) }

// testBot is a Switchboard running in-process against the shared homeserver with a
// database of its own. stop and start again on the same database is a restart.
type testBot struct {
	t      testing.TB
	ID     id.UserID
	cfg    *config.Config
	logs   *syncBuffer
	cancel context.CancelFunc
	done   chan error
}

type syncBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{} // made by a waiter, closed by the next write
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.changed != nil {
		close(b.changed)
		b.changed = nil
	}
	return b.buf.Write(p)
}

// waitCount waits until substr occurs more than n times.
func (b *syncBuffer) waitCount(ctx context.Context, substr string, n int) error {
	for {
		b.mu.Lock()
		got := strings.Count(b.buf.String(), substr)
		if b.changed == nil {
			b.changed = make(chan struct{})
		}
		changed := b.changed
		b.mu.Unlock()
		if got > n {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("%q did not occur more than %d times: %w", substr, n, ctx.Err())
		}
	}
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func newBot(t testing.TB, hs *testenv.Dendrite, dsn string) *testBot {
	t.Helper()
	userID, password := hs.NewUser(t, "switchboard")
	cfg := config.Defaults()
	cfg.Homeserver.URL = hs.URL()
	cfg.Bot.UserID, cfg.Bot.Password = userID.String(), password
	cfg.Encryption.PickleKey = "test-pickle-key-0123456789"
	cfg.Encryption.DataKey = testenv.DataKey
	cfg.Database.URL = dsn
	cfg.Logging.Level = "debug"
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	b := &testBot{t: t, ID: userID, cfg: &cfg, logs: &syncBuffer{}}
	t.Cleanup(func() {
		b.stop()
		if t.Failed() {
			logs := b.logs.String()
			t.Logf("bot log (last 12 kB):\n%s", logs[max(0, len(logs)-12000):])
		}
	})
	return b
}

// start runs the bot and returns once it has logged in and published its device keys,
// as a bot in production would have long before anyone writes to it.
func (b *testBot) start() {
	b.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	b.cancel, b.done = cancel, make(chan error, 1)
	log := zerolog.New(b.logs).Level(zerolog.DebugLevel).With().Timestamp().Logger()
	ready := make(chan struct{})
	go func() { b.done <- app.Run(ctx, b.cfg, log, app.OnReady(func() { close(ready) })) }()
	select {
	case <-ready:
	case err := <-b.done:
		cancel()
		b.cancel = nil
		b.t.Fatalf("the bot stopped before it was ready: %v", err)
	case <-time.After(60 * time.Second):
		b.t.Fatal("the bot did not get ready within 60 s")
	}
}

func (b *testBot) stop() {
	if b.cancel == nil {
		return
	}
	b.cancel()
	select {
	case err := <-b.done:
		if err != nil {
			b.t.Errorf("bot stopped with %v", err)
		}
	case <-time.After(30 * time.Second):
		b.t.Error("bot did not stop within 30 s")
	}
	b.cancel = nil
}

func (b *testBot) db() *sql.DB {
	b.t.Helper()
	db, err := sql.Open("postgres", b.cfg.Database.URL)
	if err != nil {
		b.t.Fatal(err)
	}
	b.t.Cleanup(func() { db.Close() })
	return db
}

func (b *testBot) count(query string, args ...any) int {
	b.t.Helper()
	var n int
	if err := b.db().QueryRow(query, args...).Scan(&n); err != nil {
		b.t.Fatal(err)
	}
	return n
}

// requester is a scripted person talking to the bot in an encrypted DM.
type requester struct {
	t    *testing.T
	c    *testenv.Client
	room id.RoomID
}

func newRequester(t *testing.T, b *testBot, name string) *requester {
	t.Helper()
	c := testenv.NewMatrixUser(t, name)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	room, err := c.CreateDM(ctx, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	return &requester{t: t, c: c, room: room}
}

func (r *requester) say(text string) {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := r.c.Send(ctx, r.room, text); err != nil {
		r.t.Fatal(err)
	}
}

// expect waits for the bot's message containing substr and checks that it came
// encrypted: the bot never sends case content in plaintext.
func (r *requester) expect(substr string) testenv.Msg {
	r.t.Helper()
	m := r.c.Expect(r.t, r.room, substr)
	if !m.Encrypted {
		r.t.Fatalf("the bot's message %q arrived unencrypted", substr)
	}
	return m
}

// intake answers "no" to the safety list and gives story and parties on en.wikipedia.org
// in English, up to the question whether to open the request.
func (r *requester) intake(story, parties string) {
	r.t.Helper()
	for _, step := range [][2]string{{"hello", "1 of 4"}, {"no", "2 of 4"}, {"no", "3 of 4"}, {"no", "4 of 4"},
		{"no", "what happened"}, {story, "usernames"}, {parties, "Which wiki"}, {"en.wikipedia.org", "language"},
		{"en", "Shall I open"}} {
		r.answer(step[0], step[1])
	}
}

func (r *requester) answer(text, want string) testenv.Msg {
	r.t.Helper()
	r.say(text)
	return r.expect(want)
}

func contains(haystack string, needles ...string) bool {
	for _, n := range needles {
		if !strings.Contains(haystack, n) {
			return false
		}
	}
	return true
}
