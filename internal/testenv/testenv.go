// Package testenv runs Switchboard's tests against real servers instead of
// fakes: a throwaway PostgreSQL cluster, a Dendrite homeserver, an IRC network
// (InspIRCd + Atheme services), scripted Matrix users with end-to-end
// encryption who talk to the bot the way a requester or volunteer in Element
// would, and scripted IRC users (IRCClient).
//
// A package that needs them declares so in TestMain; the servers start in
// the background while tests that need none run, and are shared by all tests
// of the package, which isolate themselves with fresh databases and users:
//
//	func TestMain(m *testing.M) { testenv.Main(m, testenv.NeedPostgres, testenv.NeedDendrite) }
//
//	func TestSomething(t *testing.T) {
//		dsn := testenv.NewDB(t)
//		alice := testenv.NewMatrixUser(t, "alice")
//		...
//	}
//
// Tests that stop or restart a server must use their own (NewPostgres,
// NewDendrite, NewIRCNetwork) so that they do not pull it out from under parallel tests.
package testenv

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"
)

// Need names a shared server a test package uses.
type Need int

const (
	NeedPostgres Need = iota + 1
	NeedDendrite
	NeedIRC
)

type lazy[T interface{ Stop() }] struct {
	name  string
	once  sync.Once
	start func() (T, error)
	srv   T
	err   error
	used  bool
}

func (l *lazy[T]) get() (T, error) {
	l.once.Do(func() {
		t0 := time.Now()
		l.srv, l.err = l.start()
		l.used = l.err == nil
		if l.used && flag.Parsed() && testing.Verbose() {
			fmt.Fprintf(os.Stderr, "testenv: %s ready in %v\n", l.name, time.Since(t0).Round(time.Millisecond))
		}
	})
	return l.srv, l.err
}

var (
	sharedPG  = &lazy[*Postgres]{name: "postgres", start: StartPostgres}
	sharedHS  = &lazy[*Dendrite]{name: "dendrite", start: StartDendrite}
	sharedIRC = &lazy[*IRC]{name: "irc", start: StartIRC}
)

// Main runs the package's tests and stops the shared servers afterwards;
// call it from TestMain. It starts the needed servers right away in the
// background. It does not return.
func Main(m *testing.M, needs ...Need) {
	// m.Run would parse the flags concurrently with the background starts,
	// which read -test.v.
	if !flag.Parsed() {
		flag.Parse()
	}
	if fuzzing() {
		// Fuzz targets need no server, and every fuzzing worker is a run of the test
		// binary of its own: starting PostgreSQL, Dendrite and InspIRCd in each would
		// take the machine for nothing. A test that needs one still starts it.
		needs = nil
	}
	for _, n := range needs {
		switch n {
		case NeedPostgres:
			go func() { _, _ = sharedPG.get() }()
		case NeedDendrite:
			go func() { _, _ = sharedHS.get() }()
		case NeedIRC:
			go func() { _, _ = sharedIRC.get() }()
		default:
			panic(fmt.Sprintf("testenv: unknown Need %d", n))
		}
	}
	code := m.Run()
	// stop waits for a start still in progress, so nothing is left behind.
	for _, l := range []interface{ stop() }{sharedPG, sharedHS, sharedIRC} {
		l.stop()
	}
	os.Exit(code)
}

// fuzzing reports whether the binary runs under go test -fuzz, as the coordinator
// or as a worker.
func fuzzing() bool {
	if f := flag.Lookup("test.fuzz"); f != nil && f.Value.String() != "" {
		return true
	}
	f := flag.Lookup("test.fuzzworker")
	return f != nil && f.Value.String() == "true"
}

func (l *lazy[T]) stop() {
	// Starting a server nobody asked for just to stop it would be a waste;
	// Do with an empty function marks it done if no start ever began.
	l.once.Do(func() {})
	if l.used {
		l.srv.Stop()
	}
}

// SharedPostgres returns the package's PostgreSQL server, starting it on first use.
func SharedPostgres() (*Postgres, error) { return sharedPG.get() }

// SharedDendrite returns the package's homeserver, starting it on first use.
func SharedDendrite() (*Dendrite, error) { return sharedHS.get() }

// PG returns the shared PostgreSQL server or fails the test.
func PG(tb testing.TB) *Postgres {
	tb.Helper()
	pg, err := sharedPG.get()
	if err != nil {
		tb.Fatal(err)
	}
	return pg
}

// Homeserver returns the shared Dendrite or fails the test.
func Homeserver(tb testing.TB) *Dendrite {
	tb.Helper()
	hs, err := sharedHS.get()
	if err != nil {
		tb.Fatal(err)
	}
	return hs
}

// IRCNetwork returns the package's shared IRC network (InspIRCd + Atheme) or
// fails the test. Tests that restart it use NewIRCNetwork.
func IRCNetwork(tb testing.TB) *IRC {
	tb.Helper()
	n, err := sharedIRC.get()
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

// SharedIRC returns the package's IRC network, starting it on first use.
func SharedIRC() (*IRC, error) { return sharedIRC.get() }

// NewIRCNetwork starts a private IRC network for this test alone, for tests
// that stop or restart it; it is deleted when the test ends.
func NewIRCNetwork(tb testing.TB) *IRC {
	tb.Helper()
	n, err := StartIRC()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(n.Stop)
	return n
}

// NewDB returns the DSN of a fresh database on the shared server, dropped
// when the test ends.
func NewDB(tb testing.TB) string {
	tb.Helper()
	return PG(tb).NewDatabase(tb)
}

// NewPostgres starts a private PostgreSQL server for this test alone, for
// tests that restart it; it is deleted when the test ends. It is a throwaway
// cluster even when DATABASE_URL names a shared server, since that one cannot
// be restarted. Only when DATABASE_URL is set and PostgreSQL is not installed
// here is the test skipped, loudly, and never under CI, where it fails.
func NewPostgres(tb testing.TB) *Postgres {
	tb.Helper()
	pg, err := startOwnedPostgres()
	if errors.Is(err, errNoPGTools) && os.Getenv("DATABASE_URL") != "" {
		msg := "POSTGRES RESTART NOT TESTED: this test needs a PostgreSQL server of its own, " +
			"DATABASE_URL names a shared one and initdb/postgres are not installed here"
		if os.Getenv("CI") != "" {
			tb.Fatal(msg + ". CI must install postgresql.")
		}
		tb.Skip("\n\n*** " + msg + " ***\n")
	}
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(pg.Stop)
	return pg
}

// NewDendrite starts a private homeserver for this test alone, for tests that
// restart it; it is deleted when the test ends.
func NewDendrite(tb testing.TB) *Dendrite {
	tb.Helper()
	hs, err := StartDendrite()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(hs.Stop)
	return hs
}

// NewMatrixUser registers a fresh user on the shared homeserver and returns
// it logged in, encrypted and syncing, with its crypto store in a fresh
// database on the shared PostgreSQL server.
func NewMatrixUser(tb testing.TB, prefix string, opts ...DialOption) *Client {
	tb.Helper()
	return NewMatrixUserOn(tb, Homeserver(tb), PG(tb), prefix, opts...)
}

// NewMatrixUserOn is NewMatrixUser on given servers.
func NewMatrixUserOn(tb testing.TB, hs *Dendrite, pg *Postgres, prefix string, opts ...DialOption) *Client {
	tb.Helper()
	userID, password := hs.NewUser(tb, prefix)
	dsn := pg.NewDatabase(tb)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, err := NewClient(ctx, tb, hs.URL(), userID, password, dsn, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}
