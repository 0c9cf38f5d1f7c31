package irc

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/lib/pq"
	"github.com/rs/zerolog"

	"switchboard/bot"
	"switchboard/config"
	"switchboard/i18n"
	"switchboard/internal/testenv"
	"switchboard/store"
)

func TestMain(m *testing.M) {
	testenv.Main(m, testenv.NeedPostgres, testenv.NeedIRC, testenv.NeedDendrite)
}

// deskBot is the core, the outbox and the IRC bridge in-process, on a database of
// their own and a real IRC network, logged in to a services account of their own.
type deskBot struct {
	t      *testing.T
	net    *testenv.IRC
	br     *Bridge
	sends  *sendLog
	st     *store.Store
	svc    *bot.Service
	nick   string
	logs   *syncBuffer
	cancel context.CancelFunc
	done   chan struct{}
}

// syncBuffer is the bot's log; changed is closed and replaced at each write, so
// a test can wait for the next log line instead of polling.
type syncBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{}
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

// next returns a channel closed at the next write.
func (b *syncBuffer) next() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.changed == nil {
		b.changed = make(chan struct{})
	}
	return b.changed
}

// waitLog waits up to d until the log holds n lines containing substr.
func (b *deskBot) waitLog(substr string, n int, d time.Duration) {
	b.t.Helper()
	deadline := time.After(d)
	for {
		next := b.logs.next()
		if strings.Count(b.logs.String(), substr) >= n {
			return
		}
		select {
		case <-next:
		case <-deadline:
			b.t.Fatalf("the log has %d lines with %q within %v, want %d", strings.Count(b.logs.String(), substr), substr, d, n)
		}
	}
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Under the test network's limit, as a deployment stays under Libera.Chat's: in
// any second the bot sends at most burst + rate lines (control lines count
// double), which must stay below the server's testenv.IRCThreshold.
const testFloodRate, testFloodBurst = testenv.IRCCommandRate * 0.6, testenv.IRCThreshold / 5

func startBot(t *testing.T, n *testenv.IRC, adjust ...func(*Config)) *deskBot {
	t.Helper()
	b := newDeskBot(t, n, adjust...)
	b.waitConnections(1)
	return b
}

// coreSetup is what a test may change in the core: its settings, and its clock
// (nil: the wall clock).
type coreSetup struct {
	bot.Config
	now func() time.Time
}

// startBotCore is startBot with the core's setup adjusted.
func startBotCore(t *testing.T, n *testenv.IRC, core func(*coreSetup), adjust ...func(*Config)) *deskBot {
	t.Helper()
	b := newDeskBotCore(t, n, core, adjust...)
	b.waitConnections(1)
	return b
}

// newDeskBot starts the bot without waiting for it to connect.
func newDeskBot(t *testing.T, n *testenv.IRC, adjust ...func(*Config)) *deskBot {
	t.Helper()
	return newDeskBotCore(t, n, nil, adjust...)
}

// newDeskBotCore is newDeskBot with the core's setup adjusted too.
func newDeskBotCore(t *testing.T, n *testenv.IRC, core func(*coreSetup), adjust ...func(*Config)) *deskBot {
	t.Helper()
	acct, pass := n.NewAccount(t, "sb")
	logs := &syncBuffer{}
	log := zerolog.New(logs).Level(zerolog.DebugLevel).With().Timestamp().Logger()
	ctx, cancel := context.WithCancel(context.Background())
	st, err := store.Open(ctx, testenv.NewDB(t), store.Options{DataKey: testenv.DataKey}, log)
	if err != nil {
		t.Fatal(err)
	}
	cat, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	outbox := bot.NewOutbox(st, log.With().Str("component", "outbox").Logger())
	coreCfg := config.CoreDefaults()
	coreCfg.MatrixContact, coreCfg.StaffConversation = "@switchboard:example.net", "!staff:localhost"
	// Tests that need them set the bounds on intakes and the paste window themselves.
	coreCfg.IntakesPerDay, coreCfg.IntakeRate, coreCfg.IntakeBurst, coreCfg.IRCPasteWindow = 0, 0, 0, 0
	setup := coreSetup{Config: coreCfg}
	if core != nil {
		core(&setup)
	}
	svc := bot.NewService(st, cat, setup.Config, outbox, log, setup.now)
	cfg := Config{Server: n.Addr(), Nick: acct, Account: acct, Password: pass,
		FloodRate: testFloodRate, FloodBurst: testFloodBurst,
		ReconnectMin: 100 * time.Millisecond, ReconnectMax: time.Second, DefaultLanguage: "en"}
	for _, f := range adjust {
		f(&cfg)
	}
	br := New(cfg, svc, outbox, cat, log.With().Str("component", "irc").Logger())
	sends := &sendLog{Bridge: br, changed: make(chan struct{})}
	outbox.Register(bot.IRC, sends)
	b := &deskBot{t: t, net: n, br: br, sends: sends, st: st, svc: svc, nick: acct, logs: logs, cancel: cancel, done: make(chan struct{})}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); outbox.Run(ctx, time.Second) }()
	go func() { defer wg.Done(); _ = br.Run(ctx) }()
	go func() { wg.Wait(); close(b.done) }()
	t.Cleanup(func() {
		b.stop()
		st.Close()
		if t.Failed() {
			l := logs.String()
			t.Logf("bot log (last 12 kB):\n%s", l[max(0, len(l)-12000):])
		}
	})
	return b
}

func (b *deskBot) stop() {
	b.cancel()
	select {
	case <-b.done:
	case <-time.After(10 * time.Second):
		b.t.Error("the bot did not stop within 10 s")
	}
}

// waitConnections waits until the bot has registered with the server n times and
// is connected. The bridge logs each connection and each loss after changing its
// state, so the log's next line is the moment to look again.
func (b *deskBot) waitConnections(n int64) {
	b.t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		next := b.logs.next()
		if b.br.Connections() >= n && b.br.current() != nil {
			return
		}
		select {
		case <-next:
		case <-deadline:
			b.t.Fatalf("the bot did not connect (%d of %d)\n%s", b.br.Connections(), n, b.net.LogTail(20))
		}
	}
}

func (b *deskBot) count(query string, args ...any) int {
	b.t.Helper()
	var n int
	if err := b.st.DB.Get(&n, query, args...); err != nil {
		b.t.Fatal(err)
	}
	return n
}

// requester is a person on IRC writing to the bot.
type requester struct {
	t   *testing.T
	c   *testenv.IRCClient
	bot string
}

// newRequester connects a person: identified with a fresh account (their nick is
// the account name, as on most networks), or not.
func (b *deskBot) newRequester(t *testing.T, prefix string, identified bool) *requester {
	t.Helper()
	if !identified {
		return &requester{t: t, c: testenv.NewIRCClient(t, b.net, uniqueNick(prefix), "", ""), bot: b.nick}
	}
	acct, pass := b.net.NewAccount(t, prefix)
	return &requester{t: t, c: testenv.NewIRCClient(t, b.net, acct, acct, pass), bot: b.nick}
}

var nickSeq atomic.Int64

// uniqueNick makes a nick that no other test uses.
func uniqueNick(prefix string) string {
	return prefix + strconv.FormatInt(nickSeq.Add(1), 10) + randomToken()[:3]
}

func (r *requester) say(text string) {
	r.t.Helper()
	if err := r.c.Privmsg(r.bot, text); err != nil {
		r.t.Fatal(err)
	}
}

func (r *requester) expect(substr string) testenv.IRCMsg {
	r.t.Helper()
	return r.c.Expect(r.t, r.bot, substr)
}

func (r *requester) answer(text, want string) testenv.IRCMsg {
	r.t.Helper()
	r.say(text)
	return r.expect(want)
}

// intakeState is the requester's open intake as step and version, to show
// that bad input changed nothing.
func (b *deskBot) intakeState(externalID string) string {
	b.t.Helper()
	var s string
	err := b.st.DB.Get(&s, `SELECT i.step || ':' || i.version FROM intakes i JOIN people p ON p.id = i.person_id
		WHERE p.platform = 'irc' AND p.external_id = $1 AND i.status = 'open'`, externalID)
	if err != nil {
		b.t.Fatal(err)
	}
	return s
}
