package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"switchboard/internal/testenv"
)

type botProc struct {
	name string
	id   id.UserID
	cmd  *exec.Cmd
	db   *sql.DB
	dsn  string
	done chan struct{}
	// script is what a requester says and what marks the end of the bot's answer.
	script []step
	warmup step
}

type step struct{ text, until string }

func (b *botProc) stop() {
	_ = b.cmd.Process.Signal(os.Interrupt)
	select {
	case <-b.done:
	case <-time.After(15 * time.Second):
		_ = b.cmd.Process.Kill()
		<-b.done
	}
	b.db.Close()
}

func (e *env) spawn(name string, uid id.UserID, dsn string, cmd *exec.Cmd) (*botProc, error) {
	logf, err := os.Create(filepathJoin(e.tmp, name+".log"))
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(2) // the harness's few reads of the bot's database
	b := &botProc{name: name, id: uid, cmd: cmd, db: db, dsn: dsn, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); logf.Close(); close(b.done) }()
	return b, nil
}

func (e *env) startEcho(ctx context.Context) (*botProc, error) {
	ctx, cancel := context.WithTimeout(ctx, setupLimit)
	defer cancel()
	uid, err := e.hs.Register(ctx, "echo", "echo-password")
	if err != nil {
		return nil, err
	}
	dsn, err := e.pg.CreateDatabase(ctx, "echo")
	if err != nil {
		return nil, err
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	b, err := e.spawn("echo bot", uid, dsn, exec.Command(self, "-echo-bot", "-hs", e.hs.URL(), "-user", uid.String(),
		"-password", "echo-password", "-db", dsn))
	if err != nil {
		return nil, err
	}
	b.warmup = step{"warm up", "warm up"}
	for i := range 20 {
		b.script = append(b.script, step{fmt.Sprintf("ping %d", i), fmt.Sprintf("ping %d", i)})
	}
	return b, nil
}

func (e *env) startSwitchboard(ctx context.Context) (*botProc, error) {
	ctx, cancel := context.WithTimeout(ctx, setupLimit)
	defer cancel()
	uid, err := e.hs.Register(ctx, "switchboard", "bot-password")
	if err != nil {
		return nil, err
	}
	dsn, err := e.pg.CreateDatabase(ctx, "switchboard")
	if err != nil {
		return nil, err
	}
	bin := filepathJoin(e.tmp, "switchboard")
	root, err := testenv.RepoRoot()
	if err != nil {
		return nil, err
	}
	build := exec.Command("go", "build", "-tags", "goolm", "-o", bin, ".")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build: %v\n%s", err, out)
	}
	cfg := fmt.Sprintf("homeserver:\n  url: %s\nbot:\n  user-id: %q\n  password: bot-password\n"+
		"encryption:\n  pickle-key: loadtest-pickle-key-0123\n  data-key: loadtest-data-key-0123456789abcdefghij\ndatabase:\n  url: %q\nlogging:\n  level: warn\n  format: json\n"+
		// One requester starts many intakes here: the misuse limits are not under test.
		"service:\n  abuse:\n    intakes-per-day: 0\n    intake-rate: 0\n",
		e.hs.URL(), uid, dsn)
	cfgPath := filepathJoin(e.tmp, "switchboard.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		return nil, err
	}
	b, err := e.spawn("switchboard", uid, dsn, exec.Command(bin, "-c", cfgPath))
	if err != nil {
		return nil, err
	}
	b.warmup = step{"!status", "no open request"}
	b.script = []step{
		{"hello", "1 of 4"}, {"no", "2 of 4"}, {"no", "3 of 4"}, {"no", "4 of 4"}, {"no", "what happened"},
		{"An editor follows me around and reverts everything I write.", "usernames"},
		{"Example_troll", "Which wiki"}, {"en.wikipedia.org", "language"}, {"en", "Shall I open"},
		{"yes", "Your request is open"}, {"!cancel", "withdrawn"},
	}
	return b, nil
}

// conversation is one requester's DM with a bot, warmed up so the bot has joined.
func (e *env) conversation(ctx context.Context, b *botProc, c *testenv.Client) (id.RoomID, error) {
	ctx, cancel := context.WithTimeout(ctx, setupLimit)
	defer cancel()
	room, err := c.CreateDM(ctx, b.id)
	if err != nil {
		return "", err
	}
	// Writing while the bot is still joining races a mautrix client's own room-key
	// rotation on the membership change; a person would see the bot join first.
	if err := waitJoined(ctx, c, room, b.id); err != nil {
		return "", err
	}
	// The warm-up is not measured.
	if _, err := exchange(ctx, c, room, b.warmup); err != nil {
		return "", fmt.Errorf("warm-up: %w", err)
	}
	return room, nil
}

// exchange sends one message and returns the time to the bot's first reply; it
// returns after the reply that marks the end of the bot's answer.
func exchange(ctx context.Context, c *testenv.Client, room id.RoomID, s step) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	start := time.Now()
	if _, err := c.Send(ctx, room, s.text); err != nil {
		return 0, err
	}
	first := time.Duration(0)
	for {
		m, err := c.WaitFor(ctx, room, func(testenv.Msg) bool { return true })
		if err != nil {
			return 0, fmt.Errorf("after %q: %w", s.text, err)
		}
		if first == 0 {
			first = time.Since(start)
		}
		if strings.Contains(m.Body, s.until) {
			return first, nil
		}
	}
}

// sequential has one requester per bot send n messages each, alternating between the
// bots message by message, and returns each bot's latencies.
func (e *env) sequential(ctx context.Context, bots []*botProc, n int) ([][]time.Duration, error) {
	rooms := make([]id.RoomID, len(bots))
	clients := make([]*testenv.Client, len(bots))
	for i, b := range bots {
		c, err := e.user(ctx, "seq")
		if err != nil {
			return nil, err
		}
		defer c.Close()
		clients[i] = c
		if rooms[i], err = e.conversation(ctx, b, c); err != nil {
			return nil, err
		}
	}
	lat := make([][]time.Duration, len(bots))
	for i := range n {
		for j, b := range bots {
			d, err := exchange(ctx, clients[j], rooms[j], b.script[i%len(b.script)])
			if err != nil {
				return nil, fmt.Errorf("%s: %w", b.name, err)
			}
			lat[j] = append(lat[j], d)
		}
	}
	return lat, nil
}

func (e *env) concurrent(ctx context.Context, b *botProc, n, per int) ([]time.Duration, error) {
	clients, err := e.users(ctx, "conc", n)
	if err != nil {
		return nil, err
	}
	rooms := make([]id.RoomID, n)
	for i, c := range clients {
		if rooms[i], err = e.conversation(ctx, b, c); err != nil {
			return nil, err
		}
	}
	var mu sync.Mutex
	var lat []time.Duration
	errs := make(chan error, n)
	var wg sync.WaitGroup
	startLine := make(chan struct{})
	for i, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-startLine
			for j := range per {
				d, err := exchange(ctx, c, rooms[i], b.script[j%len(b.script)])
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				lat = append(lat, d)
				mu.Unlock()
			}
		}()
	}
	close(startLine)
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, err
	}
	// The Switchboard requesters keep their intakes open for the memory reading.
	if b.name != "switchboard" {
		for _, c := range clients {
			c.Close()
		}
	}
	return lat, nil
}

// openIntakes starts n more intakes, each by a new requester.
func (e *env) openIntakes(ctx context.Context, b *botProc, n int) error {
	if n <= 0 {
		return nil
	}
	clients, err := e.users(ctx, "open", n)
	if err != nil {
		return err
	}
	errs := make(chan error, n)
	sem := make(chan struct{}, 16)
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			ctx, cancel := context.WithTimeout(ctx, setupLimit)
			defer cancel()
			room, err := c.CreateDM(ctx, b.id)
			if err == nil {
				err = waitJoined(ctx, c, room, b.id)
			}
			if err == nil {
				_, err = exchange(ctx, c, room, step{"hello", "1 of 4"})
			}
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

func waitJoined(ctx context.Context, c *testenv.Client, room id.RoomID, user id.UserID) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for {
		var m event.MemberEventContent
		err := c.Mautrix().StateEvent(ctx, room, event.StateMember, user.String(), &m)
		if err == nil && m.Membership == event.MembershipJoin {
			_, err = c.Mautrix().Members(ctx, room)
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s did not join: %w", user, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}
