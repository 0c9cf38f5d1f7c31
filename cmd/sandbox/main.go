// Command sandbox runs Switchboard on this machine with everything it needs: a
// throwaway PostgreSQL cluster, a Dendrite homeserver and an IRC network (InspIRCd with
// Atheme services) on 127.0.0.1, and a small team already set up: staff in the staff
// room and on call (pages land in a loopback recorder the sandbox prints), a
// coordinator in the coordinators' room, a confirmed volunteer on duty and a trainee
// with their mentor in the volunteers' room, and requester accounts on Matrix and IRC.
// It prints how to log in as each of them and what to type first.
//
// With -demo it plays the whole journey instead, prints both sides of every room,
// and stops: an everyday case, a staff-route case, an IRC requester.
//
// Everything lives in temporary directories and is deleted when the sandbox stops.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	_ "github.com/lib/pq"
	"github.com/rs/zerolog"
)

func main() {
	var o options
	flag.BoolVar(&o.demo, "demo", false, "play the whole journey, print both sides of every room, and stop")
	flag.BoolVar(&o.broadcast, "broadcast", false, "announce requests in the volunteers' room instead of offering them by direct message")
	verbose := flag.Bool("v", false, "show the bot's debug log")
	flag.Parse()
	o.out = os.Stdout
	level := zerolog.InfoLevel
	switch {
	case *verbose:
		level = zerolog.DebugLevel
	case o.demo:
		// Only what goes wrong: the transcript is the demo's output.
		level = zerolog.ErrorLevel
	}
	o.log = zerolog.New(zerolog.ConsoleWriter{Out: os.Stderr, TimeFormat: time.TimeOnly}).Level(level).With().Timestamp().Logger()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "sandbox:", err)
		os.Exit(1)
	}
}

type options struct {
	demo, broadcast bool
	out             io.Writer
	log             zerolog.Logger
}

// run starts the sandbox and either plays the demo or serves until ctx ends.
func run(ctx context.Context, o options) error {
	fmt.Fprintln(o.out, "Starting PostgreSQL, Dendrite and IRC, and setting up the team (under a minute; the first run also builds Dendrite)…")
	sb, err := start(ctx, o)
	if err != nil {
		return err
	}
	defer sb.stop()
	if o.demo {
		return sb.playDemo(ctx)
	}
	sb.guide()
	return sb.serve(ctx)
}
