// Command irclatency measures Switchboard on IRC against its floors on one IRC network
// in one run: a bare irc-go echo bot, and the same bot committing each message to
// PostgreSQL before it answers. It prints the latency from a requester's private
// message to the bot's first line back (p50, p99), for one requester at a time and for
// many at once. Run it with `make bench-irc`; the figures go to docs/benchmarks.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	_ "github.com/lib/pq"

	"switchboard/internal/benchfig"
	"switchboard/internal/testenv"
)

func main() {
	echo := flag.Bool("echo-bot", false, "run as the echo bot (used internally)")
	addr := flag.String("addr", "", "IRC server (echo bot)")
	account := flag.String("account", "", "services account and nick (echo bot)")
	password := flag.String("password", "", "services password (echo bot)")
	dsn := flag.String("dsn", "", "PostgreSQL to keep each message in before answering (durable echo bot)")
	transactional := flag.Bool("tx", false, "with -dsn: lock and read the sender's row and keep the answer, in one transaction (transactional echo bot)")
	seq := flag.Int("seq", 200, "messages sent one after another by one requester per bot")
	conc := flag.Int("concurrent", 20, "requesters writing at once")
	per := flag.Int("per-requester", 4, "messages each concurrent requester sends")
	think := flag.Duration("think", 100*time.Millisecond, "pause between a sequential requester's messages")
	floodInterval := flag.Duration("flood-interval", time.Second/time.Duration(testenv.IRCCommandRate*6/10),
		"Switchboard's irc.flood-interval (default: under the test network's limit; 1s is Libera.Chat's)")
	floodBurst := flag.Int("flood-burst", testenv.IRCThreshold/5, "Switchboard's irc.flood-burst")
	limit := flag.Duration("timeout", 30*time.Minute, "the whole run: a reply that never comes ends it with an error")
	libera := flag.Int("libera", 20, "new requesters writing at once to a Switchboard at Libera.Chat's rate (1 line/s after a burst of 4); 0 skips")
	flag.Parse()
	if *echo {
		if err := runEchoBot(*addr, *account, *password, *dsn, *transactional); err != nil {
			fmt.Fprintln(os.Stderr, "echo bot:", err)
			os.Exit(1)
		}
		return
	}
	flood.interval, flood.burst = *floodInterval, *floodBurst
	if err := run(*seq, *conc, *per, *libera, *think, *limit); err != nil {
		fmt.Fprintln(os.Stderr, "irclatency:", err)
		os.Exit(1)
	}
}

// flood is Switchboard's flood bucket for the run.
var flood struct {
	interval time.Duration
	burst    int
}

// botProc is a bot in its own process, and what a requester says to it.
type botProc struct {
	name, nick string
	cmd        *exec.Cmd
	done       chan struct{}
	script     []step
	warmup     step
}

// step is a message and the text that marks the last line of the bot's answer.
type step struct{ text, until string }

func (b *botProc) stop() {
	_ = b.cmd.Process.Signal(os.Interrupt)
	select {
	case <-b.done:
	case <-time.After(15 * time.Second):
		_ = b.cmd.Process.Kill()
		<-b.done
	}
}

type env struct {
	pg  *testenv.Postgres
	hs  *testenv.Dendrite
	irc *testenv.IRC
	tmp string
}

// setupLimit bounds what a requester waits for before it is measured: the
// account, the connection and the warm-up.
const setupLimit = 2 * time.Minute

func run(seq, conc, per, libera int, think, limit time.Duration) error {
	// Every wait below takes this context, so a reply that never comes ends the
	// run with an error instead of hanging it.
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	tmp, err := os.MkdirTemp("", "switchboard-irclatency-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	e := &env{tmp: tmp}
	if e.pg, err = testenv.StartPostgres(); err != nil {
		return err
	}
	defer e.pg.Stop()
	if e.hs, err = testenv.StartDendrite(); err != nil {
		return err
	}
	defer e.hs.Stop()
	if e.irc, err = testenv.StartIRC(); err != nil {
		return err
	}
	defer e.irc.Stop()

	echo, err := e.startEcho(ctx, false, false)
	if err != nil {
		return err
	}
	defer echo.stop()
	durable, err := e.startEcho(ctx, true, false)
	if err != nil {
		return err
	}
	defer durable.stop()
	txEcho, err := e.startEcho(ctx, true, true)
	if err != nil {
		return err
	}
	defer txEcho.stop()
	sb, err := e.startSwitchboard(ctx, "switchboard", flood.interval, flood.burst)
	if err != nil {
		return err
	}
	defer sb.stop()
	bots := []*botProc{echo, durable, txEcho, sb}

	fmt.Printf("Switchboard IRC latency, %s, %d CPUs\n\n", time.Now().Format(time.DateOnly), runtime.NumCPU())
	seqLat, err := e.sequential(ctx, bots, seq, think)
	if err != nil {
		return fmt.Errorf("sequential: %w", err)
	}
	pooled, firsts := map[string][]time.Duration{}, map[string][]time.Duration{}
	for range 2 { // alternating, so both bots share the machine's background noise
		for _, b := range bots {
			lat, first, err := e.concurrent(ctx, b, conc, per)
			if err != nil {
				return fmt.Errorf("%s concurrent: %w", b.name, err)
			}
			pooled[b.name] = append(pooled[b.name], lat...)
			firsts[b.name] = append(firsts[b.name], first...)
		}
	}
	fmt.Printf("| scenario | bot | n | p50 ms | p99 ms | max ms |\n|---|---|---|---|---|---|\n")
	scenarios := []struct {
		label string
		lat   [][]time.Duration
	}{
		{fmt.Sprintf("%d sequential, %v apart", seq, think), seqLat},
		{fmt.Sprintf("%d at once × %d, twice", conc, per), nil},
		// Each person's first message: the answer everyone waits for at once.
		{fmt.Sprintf("%d at once, first message", conc), nil},
	}
	for _, b := range bots {
		scenarios[1].lat = append(scenarios[1].lat, pooled[b.name])
		scenarios[2].lat = append(scenarios[2].lat, firsts[b.name])
	}
	for _, sc := range scenarios {
		s := make([]stats, len(bots))
		for i, b := range bots {
			s[i] = summarize(sc.lat[i])
			fmt.Printf("| %s | %s | %d | %.1f | %.1f | %.1f |\n", sc.label, b.name, s[i].n, s[i].p50, s[i].p99, s[i].max)
		}
		sbs := s[len(s)-1]
		for i, b := range bots[:len(bots)-1] {
			fmt.Printf("| %s | **ratio to %s** | | **%.2f×** | **%.2f×** | |\n", sc.label, b.name, sbs.p50/s[i].p50, sbs.p99/s[i].p99)
		}
		// The floors side by side: what a transaction that reads before it writes costs
		// over a single INSERT, whatever the bot does in it.
		fmt.Printf("| %s | *%s to %s* | | *%.2f×* | *%.2f×* | |\n", sc.label, txEcho.name, durable.name,
			s[2].p50/s[1].p50, s[2].p99/s[1].p99)
	}
	if libera > 0 {
		sb.stop()
		if err := e.liberaRate(ctx, libera); err != nil {
			return fmt.Errorf("at Libera's rate: %w", err)
		}
	}
	return nil
}

// liberaRate has n new requesters write their first message at once to a Switchboard
// held to Libera.Chat's limit (a line a second after a burst of four) and reports the
// time to each one's first line back and to the whole first answer. Each new nick
// also costs the bot a MONITOR (merged, at most a third of the budget) and the run a
// PING to confirm; at one line a second the k-th person's first line cannot leave
// before k-4 seconds when every line goes to one person, which is the floor printed.
func (e *env) liberaRate(ctx context.Context, n int) error {
	const burst = 4
	b, err := e.startSwitchboard(ctx, "switchboardlibera", time.Second, burst)
	if err != nil {
		return err
	}
	defer b.stop()
	// One requester makes sure the bot is connected; then the bucket refills.
	c, err := e.requester(ctx, b, "libwarm")
	if err != nil {
		return err
	}
	c.Close()
	clients := make([]*testenv.IRCClient, n)
	defer func() {
		for _, c := range clients {
			if c != nil {
				c.Close()
			}
		}
	}()
	for i := range clients {
		dctx, cancel := context.WithTimeout(ctx, setupLimit)
		acct := "lib" + randomSuffix()
		err := e.irc.Register(dctx, acct, "load-password")
		if err == nil {
			clients[i], err = testenv.DialIRC(dctx, e.irc.Addr(), acct, acct, "load-password")
		}
		cancel()
		if err != nil {
			return err
		}
	}
	if err := pause(ctx, 10*time.Second); err != nil {
		return err
	}
	firsts, wholes := make([]time.Duration, n), make([]time.Duration, n)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	start := time.Now()
	for i, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			first, err := exchange(ctx, c, b, step{"hello", "1 of 4"}, 5*time.Minute)
			firsts[i], wholes[i] = first, time.Since(start)
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
	}
	f, w := summarize(firsts), summarize(wholes)
	fmt.Printf("\nAt Libera.Chat's rate (1 line/s after a burst of %d), %d new requesters writing at once:\n\n", burst, n)
	fmt.Printf("| | n | p50 ms | p99 ms | max ms |\n|---|---|---|---|---|\n")
	fmt.Printf("| first line back | %d | %.0f | %.0f | %.0f |\n", f.n, f.p50, f.p99, f.max)
	fmt.Printf("| whole first answer | %d | %.0f | %.0f | %.0f |\n", w.n, w.p50, w.p99, w.max)
	fmt.Printf("| floor, one line per person: the last first line | | | %d | |\n", max(0, n-burst)*1000)
	return nil
}

func (e *env) spawn(b *botProc) error {
	logf, err := os.Create(filepath.Join(e.tmp, strings.ReplaceAll(b.name, " ", "-")+".log"))
	if err != nil {
		return err
	}
	b.cmd.Stdout, b.cmd.Stderr = logf, logf
	// The bots die with the load generator, even when it is killed.
	b.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := b.cmd.Start(); err != nil {
		return err
	}
	b.done = make(chan struct{})
	go func() { _ = b.cmd.Wait(); logf.Close(); close(b.done) }()
	return nil
}

func (e *env) startEcho(ctx context.Context, durable, transactional bool) (*botProc, error) {
	ctx, cancel := context.WithTimeout(ctx, setupLimit)
	defer cancel()
	name, nick, args := "irc-go echo bot", "echobot", []string{}
	if durable {
		name, nick = "durable echo bot", "durableecho"
		if transactional {
			name, nick, args = "transactional echo bot", "txecho", []string{"-tx"}
		}
		dsn, err := e.pg.CreateDatabase(ctx, nick)
		if err != nil {
			return nil, err
		}
		args = append(args, "-dsn", dsn)
	}
	if err := e.irc.Register(ctx, nick, "echo-password"); err != nil {
		return nil, err
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	args = append([]string{"-echo-bot", "-addr", e.irc.Addr(), "-account", nick, "-password", "echo-password"}, args...)
	b := &botProc{name: name, nick: nick, warmup: step{"warm up", "warm up"}, cmd: exec.Command(self, args...)}
	for i := range 20 {
		b.script = append(b.script, step{fmt.Sprintf("ping %d", i), fmt.Sprintf("ping %d", i)})
	}
	return b, e.spawn(b)
}

// startSwitchboard runs the real binary with Matrix and IRC configured, and the
// flood settings the IRC tests use: under the network's limit (testenv.IRCThreshold
// lines in any one second).
func (e *env) startSwitchboard(ctx context.Context, nick string, interval time.Duration, burst int) (*botProc, error) {
	ctx, cancel := context.WithTimeout(ctx, setupLimit)
	defer cancel()
	uid, err := e.hs.Register(ctx, nick, "bot-password")
	if err != nil {
		return nil, err
	}
	if err := e.irc.Register(ctx, nick, "irc-password"); err != nil {
		return nil, err
	}
	dsn, err := e.pg.CreateDatabase(ctx, nick)
	if err != nil {
		return nil, err
	}
	root, err := testenv.RepoRoot()
	if err != nil {
		return nil, err
	}
	bin := filepath.Join(e.tmp, "switchboard")
	if _, err := os.Stat(bin); err != nil {
		build := exec.Command("go", "build", "-tags", "goolm", "-o", bin, ".")
		build.Dir = root
		if out, err := build.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("go build: %v\n%s", err, out)
		}
	}
	cfg := fmt.Sprintf("homeserver:\n  url: %s\nbot:\n  user-id: %q\n  password: bot-password\n"+
		"encryption:\n  pickle-key: irclatency-pickle-key-0123\n  data-key: irclatency-data-key-0123456789abcdefgh\ndatabase:\n  url: %q\nlogging:\n  level: warn\n  format: json\n"+
		// One requester walks the intake again and again, and many start at once:
		// the limits against misuse would (rightly) stop them.
		"service:\n  abuse:\n    intakes-per-day: 0\n    intake-rate: 0\n"+
		"irc:\n  server: %s\n  tls: false\n  nick: %s\n  account: %s\n  password: irc-password\n"+
		"  flood-interval: %s\n  flood-burst: %d\n"+
		// Scripted requesters answer within a millisecond, which the bot would take
		// for more lines of a paste.
		"  paste-window: 0s\n",
		e.hs.URL(), uid, dsn, e.irc.Addr(), nick, nick, interval, burst)
	path := filepath.Join(e.tmp, nick+".yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		return nil, err
	}
	b := &botProc{name: "switchboard", nick: nick, cmd: exec.Command(bin, "-c", path),
		warmup: step{"!status", "no open request"},
		script: []step{
			{"hello", "1 of 4"}, {"no", "2 of 4"}, {"no", "3 of 4"}, {"no", "4 of 4"}, {"no", "what happened"},
			{"An editor follows me around and reverts everything I write.", "usernames"},
			{"Example_troll", "Which wiki"}, {"en.wikipedia.org", "language"}, {"en", "Shall I open"},
			{"yes", "Your request is open"}, {"!cancel", "withdrawn"},
		}}
	return b, e.spawn(b)
}

// requester connects an identified person and warms up the conversation (the
// bot may still be connecting; the warm-up is not measured).
func (e *env) requester(ctx context.Context, b *botProc, prefix string) (*testenv.IRCClient, error) {
	ctx, cancel := context.WithTimeout(ctx, setupLimit)
	defer cancel()
	acct := fmt.Sprintf("%s%s", prefix, randomSuffix())
	if err := e.irc.Register(ctx, acct, "load-password"); err != nil {
		return nil, err
	}
	c, err := testenv.DialIRC(ctx, e.irc.Addr(), acct, acct, "load-password")
	if err != nil {
		return nil, err
	}
	for {
		// Long enough for a slow flood bucket: a warm-up sent again would leave a stale
		// answer that the measured exchange would take for its own.
		if _, err = exchange(ctx, c, b, b.warmup, 30*time.Second); err == nil {
			return c, nil
		}
		if ctx.Err() != nil {
			c.Close()
			return nil, fmt.Errorf("warm-up with %s: %w", b.name, err)
		}
	}
}

// pause waits d, or returns early with an error when ctx ends.
func pause(ctx context.Context, d time.Duration) error {
	select {
	case <-time.After(d):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// exchange sends one message and returns the time to the bot's first line back;
// it returns after the line that ends the bot's answer.
func exchange(ctx context.Context, c *testenv.IRCClient, b *botProc, s step, timeout time.Duration) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	if err := c.Privmsg(b.nick, s.text); err != nil {
		return 0, err
	}
	first := time.Duration(0)
	for {
		m, err := c.WaitFor(ctx, func(m testenv.IRCMsg) bool { return m.Command == "PRIVMSG" && strings.EqualFold(m.From, b.nick) })
		if err != nil {
			return 0, err
		}
		if first == 0 {
			first = time.Since(start)
		}
		if strings.Contains(m.Text, s.until) {
			return first, nil
		}
	}
}

// sequential has one requester per bot send n messages each, alternating between
// the bots message by message, with a pause before each: a person types far
// slower, and without it the phase would measure the flood limit (the bot's
// token bucket), which the concurrent phase shows, not the reply latency.
func (e *env) sequential(ctx context.Context, bots []*botProc, n int, think time.Duration) ([][]time.Duration, error) {
	clients := make([]*testenv.IRCClient, len(bots))
	for i, b := range bots {
		c, err := e.requester(ctx, b, "seq")
		if err != nil {
			return nil, err
		}
		defer c.Close()
		clients[i] = c
	}
	lat := make([][]time.Duration, len(bots))
	for i := range n {
		for j, b := range bots {
			if err := pause(ctx, think/time.Duration(len(bots))); err != nil {
				return nil, err
			}
			d, err := exchange(ctx, clients[j], b, b.script[i%len(b.script)], 60*time.Second)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", b.name, err)
			}
			lat[j] = append(lat[j], d)
		}
	}
	return lat, nil
}

// concurrent has n requesters write at once, each sending per messages, each
// after the answer to the one before.
func (e *env) concurrent(ctx context.Context, b *botProc, n, per int) (all, first []time.Duration, err error) {
	clients := make([]*testenv.IRCClient, n)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := e.requester(ctx, b, "conc")
			clients[i] = c
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	defer func() {
		for _, c := range clients {
			if c != nil {
				c.Close()
			}
		}
	}()
	select {
	case err := <-errs:
		return nil, nil, err
	default:
	}
	// The warm-ups' answers and identity checks (MONITOR, two tokens) went through the
	// bot's flood bucket just now; let it drain and refill, so the figures are the
	// phase's own.
	if err := pause(ctx, 3*time.Second+time.Duration(3*n)*flood.interval); err != nil {
		return nil, nil, err
	}
	var mu sync.Mutex
	for _, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range per {
				d, err := exchange(ctx, c, b, b.script[i%len(b.script)], 120*time.Second)
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				all = append(all, d)
				if i == 0 {
					first = append(first, d)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	select {
	case err := <-errs:
		return nil, nil, err
	default:
	}
	return all, first, nil
}

type stats struct {
	n             int
	p50, p99, max float64
}

func summarize(d []time.Duration) stats {
	s := benchfig.Sorted(d)
	return stats{n: len(s), p50: benchfig.Percentile(s, 0.50), p99: benchfig.Percentile(s, 0.99), max: benchfig.Ms(s[len(s)-1])}
}

var suffix struct {
	sync.Mutex
	n int
}

func randomSuffix() string {
	suffix.Lock()
	defer suffix.Unlock()
	suffix.n++
	return fmt.Sprint(suffix.n)
}
