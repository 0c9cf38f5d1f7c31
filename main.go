// Command switchboard runs the Switchboard help-desk bot: one binary, one YAML file,
// one PostgreSQL database. main only reads flags and configuration and wires the
// packages together; see docs/architecture.md.
package main

import (
	"context"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	_ "github.com/lib/pq"
	"github.com/rs/zerolog"

	"switchboard/app"
	"switchboard/config"
)

//go:embed config.example.yaml
var exampleConfig []byte

// Exit codes, one per class of failure, so a supervisor can tell them apart.
const (
	exitUsage    = 2
	exitConfig   = 10
	exitDatabase = 11
	exitMatrix   = 12
	exitInternal = 13
	exitLeader   = 14 // lost the lease (HA): start again, as a standby
)

var version = "dev" // set with -ldflags "-X main.version=…"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "check-config" {
		return checkConfig(args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "simulate" {
		return simulate(args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("switchboard", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var path string
	fs.StringVar(&path, "c", "config.yaml", "path to the configuration file")
	fs.StringVar(&path, "config", "config.yaml", "path to the configuration file")
	showVersion := fs.Bool("version", false, "print the version and exit")
	generate := fs.Bool("generate-config", false, "write the example configuration to the -c path and exit")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	switch {
	case *showVersion:
		fmt.Fprintln(stdout, "switchboard", versionString())
		return 0
	case *generate:
		return generateConfig(path, stdout, stderr)
	}
	cfg, err := config.Load(path)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitConfig
	}
	log := newLogger(cfg.Logging, stderr)
	for _, note := range cfg.Upgraded {
		log.Warn().Str("change", note).Msg("The configuration file is in an older format; it still works as it is")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return serve(ctx, cfg, path, log)
}

// checkConfig validates a configuration file without starting anything (for the
// service unit's ExecStartPre, and for operators before a reload): the same reading
// and checks as a start, and the same one line and exit code on a problem.
func checkConfig(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("switchboard check-config", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var path string
	fs.StringVar(&path, "c", "config.yaml", "path to the configuration file")
	fs.StringVar(&path, "config", "config.yaml", "path to the configuration file")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		if fs.NArg() > 0 {
			fmt.Fprintln(stderr, "usage: switchboard check-config -c FILE")
		}
		return exitUsage
	}
	cfg, err := config.Load(path)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitConfig
	}
	for _, note := range cfg.Upgraded {
		fmt.Fprintln(stdout, "note: older format:", note)
	}
	fmt.Fprintf(stdout, "%s: the configuration is valid\n", path)
	return 0
}

func versionString() string {
	if info, ok := debug.ReadBuildInfo(); ok && version == "dev" {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" {
				return "dev+" + s.Value
			}
		}
	}
	return version
}

func generateConfig(path string, stdout, stderr io.Writer) int {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			fmt.Fprintf(stderr, "config: %s already exists; not overwriting it\n", path)
		} else {
			fmt.Fprintf(stderr, "config: cannot write %s: %v\n", path, err)
		}
		return exitConfig
	}
	defer f.Close()
	if _, err := f.Write(exampleConfig); err != nil {
		fmt.Fprintf(stderr, "config: cannot write %s: %v\n", path, err)
		return exitConfig
	}
	fmt.Fprintf(stdout, "Wrote %s. Replace every CHANGE-ME and example.org value, then start with: switchboard -c %s\n", path, path)
	return 0
}

func newLogger(cfg config.Logging, w io.Writer) zerolog.Logger {
	level, _ := zerolog.ParseLevel(cfg.Level)
	if cfg.Format == "pretty" {
		w = zerolog.ConsoleWriter{Out: w, TimeFormat: time.DateTime}
	}
	return zerolog.New(w).Level(level).With().Timestamp().Logger()
}

// serve runs the bot and maps its failure class to an exit code.
func serve(ctx context.Context, cfg *config.Config, path string, log zerolog.Logger) int {
	log.Info().Str("version", versionString()).Msg("Starting Switchboard")
	reload := app.ReloadFrom(func() (*config.Config, error) { return config.Load(path) })
	switch err := app.Run(ctx, cfg, log, app.Version(versionString()), reload); {
	case err == nil:
		return 0
	case errors.Is(err, app.ErrDatabase):
		return exitDatabase
	case errors.Is(err, app.ErrMatrix):
		return exitMatrix
	case errors.Is(err, app.ErrLeadership):
		return exitLeader
	default:
		return exitInternal
	}
}
