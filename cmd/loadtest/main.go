// Command loadtest measures Switchboard against its floor on one homeserver in one run:
// a bare mautrix echo bot with the same end-to-end encryption. It prints the latency
// from a requester's message to the bot's first reply (p50, p99) for sequential and
// concurrent requesters, and the bot's memory with many open intakes. Run it with
// `make bench`; the figures go to docs/benchmarks.md.
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	_ "github.com/lib/pq"
	"maunium.net/go/mautrix/id"

	"switchboard/internal/benchfig"
	"switchboard/internal/testenv"
)

func main() {
	echo := flag.Bool("echo-bot", false, "run as the echo bot (used internally)")
	hsURL := flag.String("hs", "", "homeserver URL (echo bot)")
	user := flag.String("user", "", "user ID (echo bot)")
	pass := flag.String("password", "", "password (echo bot)")
	dsn := flag.String("db", "", "database (echo bot)")
	seq := flag.Int("seq", 200, "messages sent one after another by one requester")
	conc := flag.Int("concurrent", 50, "requesters writing at once")
	perReq := flag.Int("per-requester", 4, "messages each concurrent requester sends")
	intakes := flag.Int("intakes", 200, "open intakes when memory is read")
	restCases := flag.Int("rest-cases", 1000, "open cases when memory is read at rest (0: skip)")
	floodN := flag.Int("flood", 500, "new requesters writing their first message within -flood-window, to each bot in turn (0: skip)")
	floodWindow := flag.Duration("flood-window", time.Minute, "the time the flood's first messages are spread over")
	limit := flag.Duration("timeout", 30*time.Minute, "the whole run: a reply that never comes ends it with an error")
	flag.Parse()
	if *echo {
		if err := runEchoBot(*hsURL, *user, *pass, *dsn); err != nil {
			fmt.Fprintln(os.Stderr, "echo bot:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(*seq, *conc, *perReq, *intakes, *restCases, *floodN, *floodWindow, *limit); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

type env struct {
	pg  *testenv.Postgres
	hs  *testenv.Dendrite
	tmp string
	mu  sync.Mutex
	n   int
	// clients is the one pool every simulated requester's crypto store uses (see
	// clientPool); first serialises the first dial, which creates the schema.
	clients *sql.DB
	first   sync.Mutex
	dialed  bool
}

// clientPool bounds the load generator's own connections. A pool per simulated
// requester (each in its own database) kept up to two idle connections each, so the
// memory phase's 200 open clients alone wanted 400 of the test cluster's 300
// connections ("pq: sorry, too many clients already"). Fifty requesters writing at
// once use a few connections each at the most, and a wait for a free one is a
// microsecond next to an E2EE round trip.
const (
	clientPool     = 64
	clientPoolIdle = 16
)

// setupLimit bounds what a requester waits for before it is measured: the
// account, the client, the room and the warm-up.
const setupLimit = 2 * time.Minute

func run(seq, conc, perReq, intakes, restCases, floodN int, floodWindow, limit time.Duration) error {
	// Every wait below takes this context, so a reply that never comes ends the
	// run with an error instead of hanging it.
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	tmp, err := os.MkdirTemp("", "switchboard-loadtest-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
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
	clientsDSN, err := pg.CreateDatabase(ctx, "load_clients")
	if err != nil {
		return err
	}
	clients, err := sql.Open("postgres", clientsDSN)
	if err != nil {
		return err
	}
	defer clients.Close()
	clients.SetMaxOpenConns(clientPool)
	clients.SetMaxIdleConns(clientPoolIdle)
	e := &env{pg: pg, hs: hs, tmp: tmp, clients: clients}
	conns, err := watchConnections(ctx, pg)
	if err != nil {
		return err
	}
	defer func() {
		peak, limit := conns()
		fmt.Printf("\nPostgreSQL connections: peak %d of max_connections %d (bots, harness and all requesters)\n", peak, limit)
	}()

	echo, err := e.startEcho(ctx)
	if err != nil {
		return err
	}
	defer echo.stop()
	sb, err := e.startSwitchboard(ctx)
	if err != nil {
		return err
	}
	defer sb.stop()

	fmt.Printf("Switchboard load test, %s, %d CPUs\n\n", time.Now().Format(time.DateOnly), runtime.NumCPU())
	// Sequential messages alternate between the two bots, so both see the same
	// background load; the concurrent phase runs twice for each, alternating, and pools
	// the samples. The machine's own noise then falls on both sides alike.
	results := map[string]map[string]stats{echo.name: {}, sb.name: {}}
	seqLat, err := e.sequential(ctx, []*botProc{echo, sb}, seq)
	if err != nil {
		return fmt.Errorf("sequential: %w", err)
	}
	for i, b := range []*botProc{echo, sb} {
		results[b.name]["seq"] = summarize(seqLat[i])
	}
	pooled := map[string][]time.Duration{}
	for range 2 {
		for _, b := range []*botProc{echo, sb} {
			lat, err := e.concurrent(ctx, b, conc, perReq)
			if err != nil {
				return fmt.Errorf("%s concurrent: %w", b.name, err)
			}
			pooled[b.name] = append(pooled[b.name], lat...)
		}
	}
	for _, b := range []*botProc{echo, sb} {
		results[b.name]["conc"] = summarize(pooled[b.name])
	}
	fmt.Printf("| scenario | bot | n | p50 ms | p99 ms | max ms |\n|---|---|---|---|---|---|\n")
	for _, sc := range []struct{ key, label string }{{"seq", fmt.Sprintf("%d sequential messages", seq)}, {"conc", fmt.Sprintf("%d requesters at once × %d, twice", conc, perReq)}} {
		for _, b := range []*botProc{echo, sb} {
			s := results[b.name][sc.key]
			fmt.Printf("| %s | %s | %d | %.1f | %.1f | %.1f |\n", sc.label, b.name, s.n, s.p50, s.p99, s.max)
		}
		e, s := results[echo.name][sc.key], results[sb.name][sc.key]
		fmt.Printf("| %s | ratio | | %.2fx | %.2fx | |\n", sc.label, s.p50/e.p50, s.p99/e.p99)
	}

	// Memory with many intakes open at once (each concurrent round left conc open).
	if err := e.openIntakes(ctx, sb, intakes-2*conc); err != nil {
		return err
	}
	var open int
	if err := sb.db.QueryRow(`SELECT count(*) FROM intakes WHERE status = 'open'`).Scan(&open); err != nil {
		return err
	}
	fmt.Printf("\nMemory with %d open intakes: Switchboard RSS %s (peak %s); echo bot RSS %s (peak %s)\n",
		open, rss(sb.cmd.Process.Pid, "VmRSS"), rss(sb.cmd.Process.Pid, "VmHWM"),
		rss(echo.cmd.Process.Pid, "VmRSS"), rss(echo.cmd.Process.Pid, "VmHWM"))

	if restCases > 0 {
		open, err := e.openCasesAtRest(ctx, sb, restCases)
		if err != nil {
			return fmt.Errorf("open cases at rest: %w", err)
		}
		fmt.Printf("Memory with %d open cases (seeded as the store writes them, one requester then served): Switchboard RSS %s (peak %s); echo bot RSS %s (peak %s)\n",
			open, rss(sb.cmd.Process.Pid, "VmRSS"), rss(sb.cmd.Process.Pid, "VmHWM"),
			rss(echo.cmd.Process.Pid, "VmRSS"), rss(echo.cmd.Process.Pid, "VmHWM"))
	}
	if floodN > 0 {
		res, err := e.flood(ctx, []*botProc{echo, sb}, floodN, floodWindow)
		if err != nil {
			return err
		}
		fmt.Printf("\n| flood: first messages of new requesters | bot | answered | p50 ms | p99 ms | max ms | last answer after | RSS before | peak RSS during | VmHWM |\n|---|---|---|---|---|---|---|---|---|---|\n")
		for _, r := range res {
			fmt.Printf("| %d within %s | %s | %d | %.1f | %.1f | %.1f | %s | %s | %s | %s |\n", r.n, r.window, r.bot, r.answered,
				r.lat.p50, r.lat.p99, r.lat.max, r.wallToLast.Round(100*time.Millisecond), mib(r.before), mib(r.peak), mib(r.hwm))
		}
	}
	return nil
}

type stats struct {
	n                  int
	p50, p99, max, avg float64
}

func summarize(d []time.Duration) stats {
	s := benchfig.Sorted(d)
	var sum time.Duration
	for _, x := range s {
		sum += x
	}
	return stats{n: len(s), p50: benchfig.Percentile(s, 0.50), p99: benchfig.Percentile(s, 0.99),
		max: benchfig.Ms(s[len(s)-1]), avg: benchfig.Ms(sum / time.Duration(len(s)))}
}

func rss(pid int, field string) string {
	kib := benchfig.ProcKiB(pid, field)
	if kib == 0 {
		return "?"
	}
	return mib(kib)
}

// user registers a fresh account and dials it as an E2EE client.
func (e *env) user(ctx context.Context, prefix string) (*testenv.Client, error) {
	ctx, cancel := context.WithTimeout(ctx, setupLimit)
	defer cancel()
	e.mu.Lock()
	e.n++
	n := e.n
	e.mu.Unlock()
	local := fmt.Sprintf("%s%d", prefix, n)
	uid, err := e.hs.Register(ctx, local, "load-password")
	if err != nil {
		return nil, err
	}
	// The first Dial creates the crypto store's tables; two creating them at once
	// would collide.
	dial := func() (*testenv.Client, error) {
		return testenv.Dial(ctx, e.hs.URL(), uid, "load-password", "", testenv.SharedDB(e.clients))
	}
	e.first.Lock()
	if !e.dialed {
		defer e.first.Unlock()
		c, err := dial()
		e.dialed = err == nil
		return c, err
	}
	e.first.Unlock()
	return dial()
}

func (e *env) users(ctx context.Context, prefix string, n int) ([]*testenv.Client, error) {
	out := make([]*testenv.Client, n)
	errs := make(chan error, n)
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			c, err := e.user(ctx, prefix)
			out[i] = c
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	return out, <-errs
}

func filepathJoin(a ...string) string { return filepath.Join(a...) }

var _ = id.UserID("")
