package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"switchboard/config"
	"switchboard/sim"
)

// exitBreach: with --fail-on-breach, the simulation found someone fallen through.
const exitBreach = 15

// simulate is `switchboard simulate`: the real core over a simulated week (package sim).
func simulate(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("switchboard simulate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: switchboard simulate [-c config.yaml] --scenario week.yaml [--json out.json] [--png out.png]")
		fmt.Fprintln(stderr, "       [--volunteers 14,21,28 | 14:35:7] [--staff 1,2,3] [--seed N] [--target 30m] [--database URL] [--fail-on-breach]")
		fmt.Fprintln(stderr, "Runs the real core and store over a simulated week on a throwaway PostgreSQL and reports waits and breaches (docs/simulation.md).")
		fs.PrintDefaults()
	}
	var path, scenario, jsonOut, pngOut, vols, staff, database string
	fs.StringVar(&path, "c", "", "the deployment's configuration, for its rules (offer expiry, ack timeout, limits); default: the shipped defaults")
	fs.StringVar(&path, "config", "", "same as -c")
	fs.StringVar(&scenario, "scenario", "", "the scenario file (required)")
	fs.StringVar(&jsonOut, "json", "", "also write the report as JSON to this file")
	fs.StringVar(&pngOut, "png", "", "also draw the queues and waits of the week to this PNG file")
	fs.StringVar(&vols, "volunteers", "", "sweep: counts of generated volunteers, e.g. 14,21,28 or 14:35:7")
	fs.StringVar(&staff, "staff", "", "sweep: sizes of the on-call chain, e.g. 1,2,3")
	fs.StringVar(&database, "database", "", "URL of a PostgreSQL server to make the run's database on (default: the scenario's, else a throwaway cluster)")
	seed := fs.Uint64("seed", 0, "replace the scenario's random seed")
	target := fs.Duration("target", 0, "replace the scenario's target p95 wait for a human")
	failOnBreach := fs.Bool("fail-on-breach", false, fmt.Sprintf("exit with %d when an invariant was broken", exitBreach))
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if scenario == "" || fs.NArg() > 0 {
		fs.Usage()
		return exitUsage
	}
	cfg := config.Defaults()
	if path != "" {
		c, err := config.Load(path)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return exitConfig
		}
		cfg = *c
	}
	sc, err := sim.LoadScenario(scenario)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitConfig
	}
	if *seed != 0 {
		sc.Seed = *seed
	}
	if *target > 0 {
		sc.Target = sim.Duration(*target)
	}
	nv, err1 := sim.ParseCounts(vols)
	ns, err2 := sim.ParseCounts(staff)
	if err := errors.Join(err1, err2); err != nil {
		fmt.Fprintln(stderr, "simulate:", err)
		return exitUsage
	}
	if database == "" {
		database = sc.Database
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	server, err := sim.StartServer(database)
	if err != nil {
		fmt.Fprintln(stderr, "simulate:", err)
		return exitDatabase
	}
	defer server.Close()
	opt := sim.Options{Config: cfg.Core(), Server: server, Progress: stderr}
	write := func(name string, fn func(io.Writer) error) error {
		if name == "" {
			return nil
		}
		f, err := os.Create(name)
		if err != nil {
			return err
		}
		if err := fn(f); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}
	breaches := 0
	if len(nv) > 0 || len(ns) > 0 {
		sw, err := sim.RunSweep(ctx, sc, opt, nv, ns)
		if err != nil {
			return failed(stderr, err)
		}
		sw.WriteText(stdout)
		if err := write(jsonOut, func(w io.Writer) error {
			enc := json.NewEncoder(w)
			enc.SetIndent("", "  ")
			return enc.Encode(sw)
		}); err != nil {
			fmt.Fprintln(stderr, "simulate:", err)
			return exitInternal
		}
		for _, p := range sw.Points {
			breaches += p.Breaches
		}
	} else {
		started := time.Now()
		rep, err := sim.Run(ctx, sc, opt)
		if err != nil {
			return failed(stderr, err)
		}
		rep.WriteText(stdout)
		if err := errors.Join(write(jsonOut, rep.WriteJSON), write(pngOut, rep.WritePNG)); err != nil {
			fmt.Fprintln(stderr, "simulate:", err)
			return exitInternal
		}
		breaches = len(rep.Breaches)
		fmt.Fprintf(stderr, "sim: done in %v\n", time.Since(started).Round(time.Second))
	}
	if *failOnBreach && breaches > 0 {
		return exitBreach
	}
	return 0
}

func failed(stderr io.Writer, err error) int {
	fmt.Fprintln(stderr, "simulate:", err)
	if errors.Is(err, context.Canceled) {
		return exitInternal
	}
	if sim.IsDatabaseError(err) {
		return exitDatabase
	}
	if errors.Is(err, sim.ErrScenario) {
		return exitConfig
	}
	return exitInternal
}
