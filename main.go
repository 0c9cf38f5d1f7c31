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
	"maunium.net/go/mautrix/id"

	"switchboard/bot"
	"switchboard/bridges/matrix"
	"switchboard/config"
	"switchboard/i18n"
	"switchboard/store"
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
)

var version = "dev" // set with -ldflags "-X main.version=…"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return serve(ctx, cfg, log)
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

// serve wires the parts and runs until ctx ends.
func serve(ctx context.Context, cfg *config.Config, log zerolog.Logger) int {
	log.Info().Str("version", versionString()).Msg("Starting Switchboard")
	cat, err := i18n.Load()
	if err != nil {
		log.Err(err).Msg("Message catalogue is broken")
		return exitInternal
	}
	st, err := store.Open(ctx, cfg.Database.URL, store.Options{
		MaxOpenConns: cfg.Database.MaxOpenConns, MaxIdleConns: cfg.Database.MaxIdleConns,
	}, log.With().Str("component", "store").Logger())
	if err != nil {
		if ctx.Err() != nil {
			return 0
		}
		log.Err(err).Msg("Cannot use the database")
		return exitDatabase
	}
	defer st.Close()

	outbox := bot.NewOutbox(st, log.With().Str("component", "outbox").Logger())
	allowed := make([]id.RoomID, 0, len(cfg.Service.AllowedRooms)+1)
	for _, r := range cfg.Service.AllowedRooms {
		allowed = append(allowed, id.RoomID(r))
	}
	if cfg.Service.StaffRoom != "" {
		allowed = append(allowed, id.RoomID(cfg.Service.StaffRoom))
	} else {
		log.Warn().Msg("service.staff-room is not set: staff will not be told of staff-route requests")
	}
	svc := bot.NewService(st, cat, bot.Config{
		IntakeExpiry:      cfg.Service.IntakeExpiry.D(),
		StaffPlatform:     bot.Matrix,
		StaffConversation: cfg.Service.StaffRoom,
		MaxMessage:        cfg.Service.MaxMessageLength,
		DefaultLanguage:   cfg.Service.DefaultLanguage,
	}, outbox, log.With().Str("component", "core").Logger(), nil)

	mx, err := matrix.New(ctx, matrix.Config{
		HomeserverURL: cfg.Homeserver.URL, UserID: id.UserID(cfg.Bot.UserID), Password: cfg.Bot.Password,
		AccessToken: cfg.Bot.AccessToken, DeviceName: cfg.Bot.DeviceName, DisplayName: cfg.Bot.DisplayName,
		PickleKey: []byte(cfg.Encryption.PickleKey), AllowedRooms: allowed, DefaultLanguage: cfg.Service.DefaultLanguage,
	}, st, svc, cat, log.With().Str("component", "matrix").Logger())
	if err != nil {
		if ctx.Err() != nil {
			return 0
		}
		log.Err(err).Msg("Cannot connect to Matrix")
		return exitMatrix
	}
	outbox.Register(bot.Matrix, mx)
	go outbox.Run(ctx, 5*time.Second)
	go svc.RunTimers(ctx, 30*time.Second)
	log.Info().Stringer("user_id", mx.UserID()).Stringer("device_id", mx.DeviceID()).Msg("Switchboard is running")
	if err := mx.Run(ctx); err != nil {
		log.Err(err).Msg("Matrix connection ended")
		return exitMatrix
	}
	log.Info().Msg("Stopped")
	return 0
}
