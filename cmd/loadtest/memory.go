package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"maunium.net/go/mautrix/id"

	"switchboard/internal/benchfig"
	"switchboard/internal/scaleseed"
)

// loadtestDataKey is the data key of the Switchboard the load test starts (its
// config), which the seeder seals with.
const loadtestDataKey = "loadtest-data-key-0123456789abcdefghij"

func mib(kib int) string { return fmt.Sprintf("%.0f MiB", float64(kib)/1024) }

// openCasesAtRest writes open cases into the running bot's database (as the store
// writes them; the bot keeps cases in PostgreSQL, not in memory, so it need not be
// restarted to have them), lets one new requester talk to it so a turn reads them,
// and returns how many cases are open.
func (e *env) openCasesAtRest(ctx context.Context, sb *botProc, n int) (int, error) {
	s, err := scaleseed.New(ctx, sb.dsn, loadtestDataKey)
	if err != nil {
		return 0, err
	}
	defer s.Close()
	var open int
	if err := sb.db.QueryRowContext(ctx, `SELECT count(*) FROM cases WHERE state NOT IN ('closed', 'withdrawn')`).Scan(&open); err != nil {
		return 0, err
	}
	if err := s.OpenCases(ctx, n-open, time.Now()); err != nil {
		return 0, err
	}
	c, err := e.user(ctx, "rest")
	if err != nil {
		return 0, err
	}
	defer c.Close()
	if _, err := e.conversation(ctx, sb, c); err != nil {
		return 0, err
	}
	err = sb.db.QueryRowContext(ctx, `SELECT count(*) FROM cases WHERE state NOT IN ('closed', 'withdrawn')`).Scan(&open)
	return open, err
}

type floodResult struct {
	bot                string
	n, answered        int
	lat                stats
	before, peak, hwm  int // KiB
	window, wallToLast time.Duration
}

// flood has n new requesters, each with a conversation with every bot set up
// beforehand, write their first message to one bot at a time, spread evenly over the
// window, and samples the bot's memory while it answers.
func (e *env) flood(ctx context.Context, bots []*botProc, n int, window time.Duration) ([]floodResult, error) {
	clients, err := e.users(ctx, "flood", n)
	defer func() {
		for _, c := range clients {
			if c != nil {
				c.Close()
			}
		}
	}()
	if err != nil {
		return nil, err
	}
	rooms := make([][]id.RoomID, len(bots))
	for i, b := range bots {
		rooms[i] = make([]id.RoomID, n)
		if err := parallel(ctx, n, 8, func(j int) error {
			var err error
			rooms[i][j], err = e.conversation(ctx, b, clients[j])
			return err
		}); err != nil {
			return nil, fmt.Errorf("%s: %w", b.name, err)
		}
	}
	var out []floodResult
	for i, b := range bots {
		first := b.script[0]
		r := floodResult{bot: b.name, n: n, window: window, before: benchfig.ProcKiB(b.cmd.Process.Pid, "VmRSS")}
		stop := make(chan struct{})
		sampled := make(chan int)
		go func() {
			peak := 0
			t := time.NewTicker(50 * time.Millisecond)
			defer t.Stop()
			for {
				peak = max(peak, benchfig.ProcKiB(b.cmd.Process.Pid, "VmRSS"))
				select {
				case <-stop:
					sampled <- peak
					return
				case <-t.C:
				}
			}
		}()
		lat := make([]time.Duration, n)
		start := time.Now()
		err := parallel(ctx, n, n, func(j int) error {
			// Each requester's moment in the window: the schedule of the flood, not a wait for anything.
			select {
			case <-time.After(time.Until(start.Add(window * time.Duration(j) / time.Duration(n)))):
			case <-ctx.Done():
				return ctx.Err()
			}
			var err error
			lat[j], err = exchange(ctx, clients[j], rooms[i][j], first)
			return err
		})
		r.wallToLast = time.Since(start)
		close(stop)
		r.peak = <-sampled
		r.hwm = benchfig.ProcKiB(b.cmd.Process.Pid, "VmHWM")
		if err != nil {
			return nil, fmt.Errorf("%s flood: %w", b.name, err)
		}
		r.answered = n
		r.lat = summarize(lat)
		out = append(out, r)
	}
	return out, nil
}

// parallel runs fn(0..n-1) with at most width at once and returns the first error.
func parallel(ctx context.Context, n, width int, fn func(int) error) error {
	errs := make(chan error, n)
	sem := make(chan struct{}, width)
	var wg sync.WaitGroup
	for j := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				errs <- ctx.Err()
				return
			}
			defer func() { <-sem }()
			if err := fn(j); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}
