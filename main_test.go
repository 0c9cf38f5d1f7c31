package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"maunium.net/go/mautrix/id"

	"switchboard/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m, testenv.NeedPostgres, testenv.NeedDendrite) }

func TestFlags(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"--version"}, &out, &errOut); code != 0 || !strings.HasPrefix(out.String(), "switchboard ") {
		t.Errorf("--version: %d %q", code, out.String())
	}
	path := filepath.Join(t.TempDir(), "config.yaml")
	out.Reset()
	if code := run([]string{"--generate-config", "-c", path}, &out, &errOut); code != 0 {
		t.Fatalf("--generate-config: %d %s", code, errOut.String())
	}
	written, _ := os.ReadFile(path)
	if !bytes.Equal(written, exampleConfig) {
		t.Error("--generate-config did not write the embedded example")
	}
	errOut.Reset()
	if code := run([]string{"--generate-config", "--config", path}, &out, &errOut); code != exitConfig || !strings.Contains(errOut.String(), "already exists") {
		t.Errorf("overwrite: %d %q", code, errOut.String())
	}
	errOut.Reset()
	if code := run([]string{"-c", path}, &out, &errOut); code != exitConfig || strings.Count(errOut.String(), "\n") != 1 ||
		!strings.Contains(errOut.String(), "homeserver.url") {
		t.Errorf("the example config must be refused with one line naming the key: %d %q", code, errOut.String())
	}
	if code := run([]string{"--bogus"}, &out, &errOut); code != exitUsage {
		t.Errorf("unknown flag: %d", code)
	}
}

// buildBinary builds the bot once per test run (the Go build cache makes it cheap).
func buildBinary(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv("SWITCHBOARD_BIN"); bin != "" {
		return bin
	}
	bin := filepath.Join(t.TempDir(), "switchboard")
	cmd := exec.Command("go", "build", "-tags", "goolm", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

type proc struct {
	cmd  *exec.Cmd
	logs *lockedBuffer
	done chan struct{}
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func startProc(t *testing.T, bin, cfgPath string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(bin, "-c", cfgPath), logs: &lockedBuffer{}, done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("bot output:\n%s", p.logs.String())
		}
	})
	return p
}

func (p *proc) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.done
}

// Killing the bot (SIGKILL) in the middle of an intake loses nothing: started again,
// it continues at the same question and asks nothing twice.
func TestKillMidIntakeContinues(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	hs := testenv.Homeserver(t)
	botID, password := hs.NewUser(t, "switchboard")
	dsn := testenv.NewDB(t)
	cfgPath := filepath.Join(t.TempDir(), "config.yaml")
	cfg := fmt.Sprintf(`homeserver:
  url: %s
bot:
  user-id: "%s"
  password: %s
encryption:
  pickle-key: kill-test-pickle-key-0123
  data-key: kill-test-data-key-0123456789abcdefghij
database:
  url: "%s"
metrics:
  listen: "127.0.0.1:0"
logging:
  level: debug
  format: json
`, hs.URL(), botID, password, dsn)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startProc(t, bin, cfgPath)
	// A message encrypted before the bot's device keys are up is encrypted for no
	// device of the bot: wait until it has handled a sync.
	waitReady(t, opsAddr(t, p, 60*time.Second), "leader", 90*time.Second)
	alice := testenv.NewMatrixUser(t, "alice")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	room, err := alice.CreateDM(ctx, botID)
	if err != nil {
		t.Fatal(err)
	}
	say := func(text string) {
		t.Helper()
		if _, err := alice.Send(ctx, room, text); err != nil {
			t.Fatal(err)
		}
	}
	say("hello")
	alice.Expect(t, room, "1 of 4")
	say("no")
	alice.Expect(t, room, "2 of 4")
	say("no")
	alice.Expect(t, room, "3 of 4")
	p.kill(t)
	// Written while the bot is dead: it must be picked up after the restart.
	say("no")
	p = startProc(t, bin, cfgPath)
	got := alice.Expect(t, room, "4 of 4")
	if !got.Encrypted {
		t.Error("reply after restart was not encrypted")
	}
	say("no")
	alice.Expect(t, room, "what happened")
	// The whole conversation, before and after the restart: a replay after it
	// would repeat the greeting or a question, before "4 of 4" or after it.
	var fromBot []string
	for _, m := range alice.Messages(room) {
		if m.Sender == id.UserID(botID) {
			fromBot = append(fromBot, m.Body)
		}
	}
	onceInOrder(t, fromBot, "not an emergency", "1 of 4", "2 of 4", "3 of 4", "4 of 4", "what happened")
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var devices int
	if err := db.QueryRow(`SELECT count(DISTINCT device_id) FROM crypto_account`).Scan(&devices); err != nil || devices != 1 {
		t.Errorf("crypto devices after restart: %d, %v", devices, err)
	}
	if strings.Contains(p.logs.String(), "panic") {
		t.Error("the bot panicked")
	}
}

// onceInOrder checks that each of substrs is in exactly one of texts, in the
// order given.
func onceInOrder(t *testing.T, texts []string, substrs ...string) {
	t.Helper()
	last := -1
	for _, s := range substrs {
		at := -1
		for i, text := range texts {
			if strings.Contains(text, s) {
				if at >= 0 {
					t.Errorf("%q came twice: %q", s, texts)
				}
				at = i
			}
		}
		switch {
		case at < 0:
			t.Errorf("%q never came: %q", s, texts)
		case at < last:
			t.Errorf("%q came out of order: %q", s, texts)
		}
		last = max(last, at)
	}
}

// SIGKILL while an offer is pending: started again, the bot still moves the offer on
// when it is due, because the offer's timer is a row, not a goroutine.
func TestKillWithPendingOfferExpiresOnTime(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	hs := testenv.Homeserver(t)
	botID, password := hs.NewUser(t, "switchboard")
	ctx, cancel := context.WithTimeout(context.Background(), 180*time.Second)
	defer cancel()
	staff := testenv.NewMatrixUser(t, "staff")
	staffRoom, err := staff.CreateRoom(ctx, "Staff", botID)
	if err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(t.TempDir(), "config.yaml")
	cfg := fmt.Sprintf(`homeserver: {url: %s}
bot: {user-id: "%s", password: %s}
encryption: {pickle-key: kill-offer-pickle-key-0123, data-key: kill-offer-data-key-0123456789abcdefgh}
database: {url: "%s"}
service:
  staff-room: "%s"
  staff: ["%s"]
  routing: {offer-expiry: 1m}
logging: {level: debug, format: json}
`, hs.URL(), botID, password, testenv.NewDB(t), staffRoom, staff.UserID())
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startProc(t, bin, cfgPath)
	talk := func(c *testenv.Client, room id.RoomID, text, want string) {
		t.Helper()
		if _, err := c.Send(ctx, room, text); err != nil {
			t.Fatal(err)
		}
		c.Expect(t, room, want)
	}
	dm := func(c *testenv.Client) id.RoomID {
		room, err := c.CreateDM(ctx, id.UserID(botID))
		if err != nil {
			t.Fatal(err)
		}
		return room
	}
	vols := []*testenv.Client{testenv.NewMatrixUser(t, "vfirst"), testenv.NewMatrixUser(t, "vsecond")}
	rooms := []id.RoomID{dm(vols[0]), dm(vols[1])}
	for i, v := range vols {
		for _, c := range testenv.Enrol(v.UserID().String()) {
			talk(staff, staffRoom, c, v.UserID().String())
		}
		talk(v, rooms[i], "!languages en", "You help in")
	}
	talk(vols[0], rooms[0], "!on", "on duty")
	talk(vols[1], rooms[1], "!on", "on duty")
	alice := testenv.NewMatrixUser(t, "alice")
	ar := dm(alice)
	for _, s := range [][2]string{{"hello", "1 of 4"}, {"no", "2 of 4"}, {"no", "3 of 4"}, {"no", "4 of 4"},
		{"no", "what happened"}, {"Someone follows me to every article", "usernames"}, {"none", "Which wiki"},
		{"en.wikipedia.org", "language"}, {"en", "Shall I open"}, {"yes", "is open"}} {
		talk(alice, ar, s[0], s[1])
	}
	// The first offer goes to one of them; kill the bot at once, and start it
	// again while the offer is still pending.
	offered, offer := firstMessage(ctx, t, vols, rooms, "New request")
	p.kill(t)
	startProc(t, bin, cfgPath)
	other := 1 - offered
	vols[other].ExpectTimeout = 150 * time.Second
	moved := vols[other].Expect(t, rooms[other], "New request")
	// Times are the homeserver's stamps on the events. The offer was made after
	// the "yes" that opened the request, so its minute cannot be up before a
	// minute after that "yes", however the machine is loaded; a lost timer never
	// moves it, and one found only by some late sweep is caught by the bound on
	// the other side, which is wide because the bot restarts under load.
	yes := lastFrom(alice.Messages(ar), alice.UserID(), "yes")
	if yes.IsZero() {
		t.Fatal("alice's yes is not in her room")
	}
	if early := yes.Add(time.Minute).Sub(moved.Time); early > 0 {
		t.Errorf("the offer moved on %s before its minute was up", early)
	}
	if late := moved.Time.Sub(offer.Time.Add(time.Minute)); late > 45*time.Second {
		t.Errorf("the offer moved on %s after its minute was up", late)
	}
	vols[offered].ExpectTimeout = 90 * time.Second
	vols[offered].Expect(t, rooms[offered], "has expired")
}

// firstMessage waits for a message containing substr in any of the rooms, each
// watched by its client, and returns which came first.
func firstMessage(ctx context.Context, t *testing.T, clients []*testenv.Client, rooms []id.RoomID, substr string) (int, testenv.Msg) {
	t.Helper()
	type seen struct {
		i   int
		m   testenv.Msg
		err error
	}
	ctx, stop := context.WithCancel(ctx)
	found := make(chan seen, len(clients)) // room for every watcher: none blocks
	for i, c := range clients {
		go func() {
			m, err := c.WaitFor(ctx, rooms[i], func(m testenv.Msg) bool { return strings.Contains(m.Body, substr) })
			found <- seen{i, m, err}
		}()
	}
	first := <-found
	stop()
	if first.err != nil {
		t.Fatalf("no %q: %v", substr, first.err)
	}
	return first.i, first.m
}

// lastFrom returns when sender last said exactly body.
func lastFrom(msgs []testenv.Msg, sender id.UserID, body string) time.Time {
	var at time.Time
	for _, m := range msgs {
		if m.Sender == sender && m.Body == body {
			at = m.Time
		}
	}
	return at
}

// SIGKILL in the middle of the paging chain: started again, the bot pages the next
// person when the first one's acknowledgement time is up, as if nothing happened.
func TestKillMidPagingKeepsSchedule(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	hs := testenv.Homeserver(t)
	botID, password := hs.NewUser(t, "switchboard")
	ctx, cancel := context.WithTimeout(context.Background(), 180*time.Second)
	defer cancel()
	staff := testenv.NewMatrixUser(t, "staff")
	staffRoom, err := staff.CreateRoom(ctx, "Staff", botID)
	if err != nil {
		t.Fatal(err)
	}
	s2ID, _ := hs.NewUser(t, "oncall2")
	ntfy := testenv.NewRecorder(t)
	cfgPath := filepath.Join(t.TempDir(), "config.yaml")
	cfg := fmt.Sprintf(`homeserver: {url: %s}
bot: {user-id: "%s", password: %s}
encryption: {pickle-key: kill-paging-pickle-key-0123, data-key: kill-paging-data-key-0123456789abcdefg}
database: {url: "%s"}
service:
  staff-room: "%s"
  staff: ["%s", "%s"]
  on-call: {chain: ["%s", "%s"], ack-timeout: 30s}
pager:
  contacts:
    "%s": {ntfy: "%s/first"}
    "%s": {ntfy: "%s/second"}
metrics: {listen: "127.0.0.1:0"}
logging: {level: debug, format: json}
`, hs.URL(), botID, password, testenv.NewDB(t), staffRoom, staff.UserID(), s2ID, staff.UserID(), s2ID,
		staff.UserID(), ntfy.URL(), s2ID, ntfy.URL())
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startProc(t, bin, cfgPath)
	waitReady(t, opsAddr(t, p, 60*time.Second), "leader", 90*time.Second)
	staffRouteRequest(t, ctx, id.UserID(botID), "alice")
	first := ntfy.WaitFor(t, 1, 30*time.Second)[0]
	if first.Path != "/first" {
		t.Fatalf("first page went to %s", first.Path)
	}
	p.kill(t)
	// The bot stays dead until the first person's acknowledgement time is up (it
	// was set before the first page went out, so it is up 30 s after that page
	// came at the latest). This is the scenario, not a wait for anything.
	select {
	case <-time.After(time.Until(first.At.Add(30 * time.Second))):
	case <-ctx.Done():
		t.Fatal(ctx.Err())
	}
	restarted := time.Now()
	startProc(t, bin, cfgPath)
	// The first page may come twice: the bot may have died before it noted the
	// page as sent, and pages are delivered at least once. The next person's is
	// the first to /second.
	var second testenv.Request
	for n := 2; second.Path != "/second"; n++ {
		second = ntfy.WaitFor(t, n, time.Until(restarted.Add(90*time.Second)))[n-1]
		if second.Path != "/second" && n > 2 {
			t.Fatalf("page %d went to %s, before any to the next person", n, second.Path)
		}
	}
	// The escalation fell due while the bot was dead, so it comes as soon as the
	// bot is back: a timer lost with the process never comes, and one armed
	// afresh at start comes a whole 30 s after it. A start slowed by load takes
	// seconds, well inside the bound.
	if !second.At.After(restarted) {
		t.Errorf("the second page came before the bot was started again")
	}
	if wait := second.At.Sub(restarted); wait >= 30*time.Second {
		t.Errorf("the second page came %s after the restart: its timer started again instead of firing", wait)
	}
}

// check-config validates a file and starts nothing: one line and exit code 10 on a
// problem, 0 and a confirmation on a good file.
func TestCheckConfig(t *testing.T) {
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	example := filepath.Join(dir, "example.yaml")
	if err := os.WriteFile(example, exampleConfig, 0o600); err != nil {
		t.Fatal(err)
	}
	if code := run([]string{"check-config", "-c", example}, &out, &errOut); code != exitConfig ||
		strings.Count(errOut.String(), "\n") != 1 || !strings.Contains(errOut.String(), "placeholder") {
		t.Errorf("the example must be refused with one line: %d %q", code, errOut.String())
	}
	good := filepath.Join(dir, "good.yaml")
	cfg := `homeserver: {url: "http://127.0.0.1:1"}
bot: {user-id: "@sb:localhost", password: secret-password}
encryption: {pickle-key: 0123456789abcdef0123, data-key: check-config-data-key-0123456789abcdefghij}
database: {url: "postgres://sb@127.0.0.1:1/sb"}
`
	if err := os.WriteFile(good, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	errOut.Reset()
	// The database and homeserver above are unreachable: a check that tried to
	// connect would hang or fail, so a quick 0 shows it starts nothing.
	if code := run([]string{"check-config", "--config", good}, &out, &errOut); code != 0 || !strings.Contains(out.String(), "valid") {
		t.Errorf("a good file: %d %q %q", code, out.String(), errOut.String())
	}
	if code := run([]string{"check-config", "-c", good, "extra"}, &out, &errOut); code != exitUsage {
		t.Errorf("an extra argument: %d", code)
	}
}

// staffRouteRequest has a new Matrix user answer "yes" to the first safety question in
// a direct chat with the bot: a staff-route case, paged at once.
func staffRouteRequest(t *testing.T, ctx context.Context, botID id.UserID, name string) (*testenv.Client, id.RoomID) {
	t.Helper()
	c := testenv.NewMatrixUser(t, name)
	room, err := c.CreateDM(ctx, botID)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range [][2]string{{"hello", "1 of 4"}, {"yes", "emergency"}} {
		if _, err := c.Send(ctx, room, s[0]); err != nil {
			t.Fatal(err)
		}
		c.Expect(t, room, s[1])
	}
	return c, room
}
