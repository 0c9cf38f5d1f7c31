// Command benchscale measures what Switchboard's core costs as the desk grows: a
// throwaway PostgreSQL is filled with 2,000 volunteers on shifts and 100,000 closed
// cases, then with 100, 1,000 and 10,000 open or queued cases, and at each size a fresh
// process (the store and the core, as the bot runs them, without the chat bridges)
// measures the routing decision, the coordinators' !queue, !coverage and !stats typed
// through the real core turn, and its own memory. It prints a table of size against
// cost, and the database's size per closed case. Run it with `make bench-scale`; the
// figures go to docs/benchmarks.md.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"time"

	"switchboard/internal/benchfig"
	"switchboard/internal/scaleseed"
	"switchboard/internal/testenv"
)

func main() {
	measureMode := flag.Bool("measure", false, "measure a filled database (used internally, in a process of its own)")
	dsn := flag.String("dsn", "", "database to measure (with -measure)")
	sizes := flag.String("open", "100,1000,10000", "numbers of open or queued cases, one row each")
	closed := flag.Int("closed", 100000, "closed cases")
	volunteers := flag.Int("volunteers", 2000, "volunteers")
	decisions := flag.Int("decisions", 1000, "routing decisions timed at each size")
	runs := flag.Int("runs", 30, "times each command is typed at each size")
	hold := flag.Bool("hold", false, "at the end, print the database's address and wait for Ctrl-C (for EXPLAIN ANALYZE by hand)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if *measureMode {
		if err := measureChild(ctx, *dsn, *decisions, *runs); err != nil {
			fmt.Fprintln(os.Stderr, "benchscale -measure:", err)
			os.Exit(1)
		}
		return
	}
	var ns []int
	for _, s := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "benchscale: -open %q: want numbers above 0\n", *sizes)
			os.Exit(2)
		}
		ns = append(ns, n)
	}
	if err := run(ctx, ns, *closed, *volunteers, *decisions, *runs, *hold); err != nil {
		fmt.Fprintln(os.Stderr, "benchscale:", err)
		os.Exit(1)
	}
}

// result is one child's figures (milliseconds, KiB).
type result struct {
	Open            int     `json:"open"`
	RouteP50        float64 `json:"route_p50"`
	RouteP99        float64 `json:"route_p99"`
	RouteFound      int     `json:"route_found"`
	FloorP50        float64 `json:"floor_p50"`
	FloorP99        float64 `json:"floor_p99"`
	Decisions       int     `json:"decisions"`
	SweepP50        float64 `json:"sweep_p50"`
	SweepP99        float64 `json:"sweep_p99"`
	QueueP50        float64 `json:"queue_p50"`
	QueueP99        float64 `json:"queue_p99"`
	CoverageP50     float64 `json:"coverage_p50"`
	CoverageP99     float64 `json:"coverage_p99"`
	StatsP50        float64 `json:"stats_p50"`
	StatsP99        float64 `json:"stats_p99"`
	RSSKiB          int     `json:"rss_kib"`
	PeakKiB         int     `json:"peak_kib"`
	Runs            int     `json:"runs"`
	QueueShown      int     `json:"queue_shown"`
	StatsClosed7d   int     `json:"stats_closed_7d"`
	CoverageEntries int     `json:"coverage_entries"`
	OtherMessages   int     `json:"other_messages"`
}

func run(ctx context.Context, sizes []int, closed, volunteers, decisions, runs int, hold bool) error {
	pg, err := testenv.StartPostgres()
	if err != nil {
		return err
	}
	defer pg.Stop()
	dsn, err := pg.CreateDatabase(ctx, "benchscale")
	if err != nil {
		return err
	}
	s, err := scaleseed.New(ctx, dsn, testenv.DataKey)
	if err != nil {
		return err
	}
	defer s.Close()
	now := time.Now()
	fmt.Printf("Switchboard at scale, %s, %d CPUs, load average %s\n\n", now.Format(time.DateOnly), runtime.NumCPU(), benchfig.LoadAvg())

	t0 := time.Now()
	if err := s.Volunteers(ctx, volunteers, now); err != nil {
		return fmt.Errorf("volunteers: %w", err)
	}
	if err := s.Analyze(ctx); err != nil {
		return err
	}
	before, err := s.Size(ctx)
	if err != nil {
		return err
	}
	if err := s.ClosedCases(ctx, closed, now); err != nil {
		return fmt.Errorf("closed cases: %w", err)
	}
	if err := s.Analyze(ctx); err != nil {
		return err
	}
	after, err := s.Size(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("Seeded %d volunteers (%d shifts) and %d closed cases in %s.\n", volunteers, 3*volunteers, closed, time.Since(t0).Round(time.Second))
	if closed > 0 {
		fmt.Printf("Database size per closed case: %.0f bytes (%.1f MiB for %d; all relations with their indexes and TOAST, after VACUUM)\n",
			float64(after.Total-before.Total)/float64(closed), float64(after.Total-before.Total)/(1<<20), closed)
		fmt.Printf("  by table: %s\n\n", after.Minus(before))
	}

	var rows []result
	for _, n := range sizes {
		if err := s.OpenCases(ctx, n, now); err != nil {
			return fmt.Errorf("open cases: %w", err)
		}
		if err := s.Analyze(ctx); err != nil {
			return err
		}
		r, err := measure(ctx, dsn, decisions, runs)
		if err != nil {
			return fmt.Errorf("%d open: %w", n, err)
		}
		r.Open = n
		rows = append(rows, r)
	}
	printTable(rows)
	if hold {
		fmt.Printf("\nThe database stays up until Ctrl-C: psql %q\n", dsn)
		<-ctx.Done()
	}
	return nil
}

// measure runs the measuring process on the filled database and reads its figures.
func measure(ctx context.Context, dsn string, decisions, runs int) (result, error) {
	self, err := os.Executable()
	if err != nil {
		return result{}, err
	}
	cmd := exec.CommandContext(ctx, self, "-measure", "-dsn", dsn, "-decisions", strconv.Itoa(decisions), "-runs", strconv.Itoa(runs))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return result{}, err
	}
	var r result
	if err := json.Unmarshal(out, &r); err != nil {
		return result{}, fmt.Errorf("the measuring process said %q: %w", out, err)
	}
	return r, nil
}

func printTable(rows []result) {
	fmt.Println("| open or queued cases | routing decision p50 / p99 ms | routing sweep (20 oldest) p50 / p99 ms | !queue p50 / p99 ms | !coverage p50 / p99 ms | !stats p50 / p99 ms | RSS (peak) MiB | floor: one round trip p50 / p99 ms |")
	fmt.Println("|---|---|---|---|---|---|---|---|")
	for _, r := range rows {
		fmt.Printf("| %d | %.2f / %.2f | %.2f / %.2f | %.1f / %.1f | %.1f / %.1f | %.1f / %.1f | %.0f (%.0f) | %.2f / %.2f |\n", r.Open,
			r.RouteP50, r.RouteP99, r.SweepP50, r.SweepP99, r.QueueP50, r.QueueP99, r.CoverageP50, r.CoverageP99,
			r.StatsP50, r.StatsP99, float64(r.RSSKiB)/1024, float64(r.PeakKiB)/1024, r.FloorP50, r.FloorP99)
	}
	fmt.Println("\nTargets: routing decision p99 < 5 ms; !queue, !coverage, !stats < 100 ms; RSS < 80 MiB.")
	for _, r := range rows {
		fmt.Printf("At %d: %d of %d routing decisions found a volunteer; !queue listed %d cases; !stats counted %d closed in 7 days; !coverage drew %d shifts; %d runs of each command; %d other messages committed by those turns.\n",
			r.Open, r.RouteFound, r.Decisions, r.QueueShown, r.StatsClosed7d, r.CoverageEntries, r.Runs, r.OtherMessages)
	}
}
