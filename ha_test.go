package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"maunium.net/go/mautrix/id"

	"switchboard/internal/testenv"
	"switchboard/store"
)

// haLease is the lease of the HA tests: short, so that a frozen leader is replaced
// quickly; a dead one is replaced at once whatever it is.
const haLease = 6 * time.Second

// haRig is one bot identity, one database and one configuration, run by several
// processes: the replicas.
type haRig struct {
	t       *testing.T
	bin     string
	cfgPath string
	dsn     string
	botID   id.UserID
	db      *sql.DB
	ctx     context.Context
}

func newHARig(t *testing.T, service string) *haRig {
	t.Helper()
	r := &haRig{t: t, bin: buildBinary(t)}
	hs := testenv.Homeserver(t)
	botID, password := hs.NewUser(t, "switchboard")
	r.botID = id.UserID(botID)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	t.Cleanup(cancel)
	r.ctx = ctx
	r.dsn = testenv.NewDB(t)
	r.cfgPath = filepath.Join(t.TempDir(), "config.yaml")
	cfg := fmt.Sprintf(`homeserver: {url: %s}
bot: {user-id: "%s", password: %s}
encryption: {pickle-key: ha-test-pickle-key-0123, data-key: ha-test-data-key-0123456789abcdefghijklmn}
database: {url: "%s"}
%s
metrics: {listen: "127.0.0.1:0"}
ha: {lease: %s}
logging: {level: debug, format: json}
`, hs.URL(), botID, password, r.dsn, service, haLease)
	if err := os.WriteFile(r.cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("postgres", r.dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	r.db = db
	return r
}

// replica starts one process and waits until it is ready in the role it should have:
// the first is the leader, every later one a standby.
func (r *haRig) replica(role string) (*proc, string) {
	r.t.Helper()
	p := startProc(r.t, r.bin, r.cfgPath)
	addr := opsAddr(r.t, p, 60*time.Second)
	waitReady(r.t, addr, role, 90*time.Second)
	return p, addr
}

// takeOver kills (or has stopped) the leader and measures until the standby is ready
// as the leader: it has the lease, its Matrix client runs and a sync was handled.
func (r *haRig) takeOver(what string, since time.Time, standby string, limit time.Duration) time.Duration {
	r.t.Helper()
	waitReady(r.t, standby, "leader", limit)
	took := time.Since(since)
	r.t.Logf("TAKE-OVER %s: %.1f s", what, took.Seconds())
	return took
}

func (r *haRig) count(query string, args ...any) int {
	r.t.Helper()
	var n int
	if err := r.db.QueryRow(query, args...).Scan(&n); err != nil {
		r.t.Fatal(err)
	}
	return n
}

// waitCount polls a count until it is want.
func (r *haRig) waitCount(want int, timeout time.Duration, query string, args ...any) {
	r.t.Helper()
	deadline := time.Now().Add(timeout)
	for n := r.count(query, args...); n != want; n = r.count(query, args...) {
		if time.Now().After(deadline) {
			r.t.Fatalf("%s: %d, want %d", query, n, want)
		}
		time.Sleep(100 * time.Millisecond) // polling a deadline
	}
}

func (r *haRig) dm(c *testenv.Client) id.RoomID {
	r.t.Helper()
	room, err := c.CreateDM(r.ctx, r.botID)
	if err != nil {
		r.t.Fatal(err)
	}
	return room
}

func (r *haRig) say(c *testenv.Client, room id.RoomID, text string) {
	r.t.Helper()
	if _, err := c.Send(r.ctx, room, text); err != nil {
		r.t.Fatal(err)
	}
}

// processStopped reads whether pid is stopped by a signal (state T).
func processStopped(t *testing.T, pid int) bool {
	t.Helper()
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	// The state follows the command name in parentheses, which may hold spaces.
	i := strings.LastIndexByte(string(stat), ')')
	return i > 0 && len(stat) > i+2 && stat[i+2] == 'T'
}

func botSaid(c *testenv.Client, room id.RoomID, bot id.UserID) []string {
	var out []string
	for _, m := range c.Messages(room) {
		if m.Sender == bot {
			out = append(out, m.Body)
		}
	}
	return out
}

// SIGKILL the leader in the middle of an intake: the standby takes over within 15 s
// on the same device and the intake goes on, nothing lost or asked twice.
func TestHAKillLeaderMidIntake(t *testing.T) {
	t.Parallel()
	r := newHARig(t, "")
	leader, _ := r.replica("leader")
	_, standby := r.replica("standby")
	if code, body := httpGet(t, "http://"+standby+"/readyz?leader"); code != 503 {
		t.Errorf("a standby's /readyz?leader: %d %s", code, body)
	}
	alice := testenv.NewMatrixUser(t, "alice")
	room := r.dm(alice)
	for _, s := range [][2]string{{"hello", "1 of 4"}, {"no", "2 of 4"}, {"no", "3 of 4"}} {
		r.say(alice, room, s[0])
		alice.Expect(t, room, s[1])
	}
	killed := time.Now()
	leader.kill(t)
	// Written while nobody leads: the new leader must pick it up.
	r.say(alice, room, "no")
	if took := r.takeOver("after SIGKILL mid-intake", killed, standby, 15*time.Second); took > 15*time.Second {
		t.Errorf("take-over took %s", took)
	}
	got := alice.Expect(t, room, "4 of 4")
	if !got.Encrypted {
		t.Error("the new leader's reply was not encrypted")
	}
	r.say(alice, room, "no")
	alice.Expect(t, room, "what happened")
	onceInOrder(t, botSaid(alice, room, r.botID), "not an emergency", "1 of 4", "2 of 4", "3 of 4", "4 of 4", "what happened")
	if n := r.count(`SELECT count(DISTINCT device_id) FROM crypto_account`); n != 1 {
		t.Errorf("%d crypto devices: the standby did not take over the same device", n)
	}
	if n := r.count(`SELECT epoch FROM switchboard_lease`); n != 2 {
		t.Errorf("lease epoch %d, want 2 (one take-over)", n)
	}
}

// SIGKILL the leader in the middle of the paging chain: the standby takes over and
// pages the next person when the first one's time is up, each page exactly once.
func TestHAKillLeaderMidPaging(t *testing.T) {
	t.Parallel()
	ntfy := testenv.NewRecorder(t)
	hs := testenv.Homeserver(t)
	s1, _ := hs.NewUser(t, "oncall1")
	s2, _ := hs.NewUser(t, "oncall2")
	r := newHARig(t, fmt.Sprintf(`service:
  staff: ["%s", "%s"]
  on-call: {chain: ["%s", "%s"], ack-timeout: 30s}
pager:
  contacts:
    "%s": {ntfy: "%s/first"}
    "%s": {ntfy: "%s/second"}`, s1, s2, s1, s2, s1, ntfy.URL(), s2, ntfy.URL()))
	leader, _ := r.replica("leader")
	_, standby := r.replica("standby")
	alice := testenv.NewMatrixUser(t, "alice")
	room := r.dm(alice)
	for _, s := range [][2]string{{"hello", "1 of 4"}, {"yes", "emergency"}} {
		r.say(alice, room, s[0])
		alice.Expect(t, room, s[1])
	}
	first := ntfy.WaitFor(t, 1, 60*time.Second)[0]
	// Killed once the page is recorded as sent, so that a page sent twice would be
	// the take-over's fault, not the outbox's at-least-once.
	r.waitCount(0, 30*time.Second, `SELECT count(*) FROM outbox WHERE platform = 'pager'`)
	killed := time.Now()
	leader.kill(t)
	r.takeOver("after SIGKILL mid-page-chain", killed, standby, 15*time.Second)
	ntfy.WaitFor(t, 2, time.Until(first.At.Add(30*time.Second+30*time.Second)))
	reqs := ntfy.Requests()
	if len(reqs) != 2 || reqs[0].Path != "/first" || reqs[1].Path != "/second" {
		var paths []string
		for _, q := range reqs {
			paths = append(paths, q.Path)
		}
		t.Fatalf("pages %v, want [/first /second]", paths)
	}
	// The second page is the first one's timer firing on the new leader: not before
	// its 30 s, and not much after (a timer armed afresh would add 30 s).
	if early := first.At.Add(30 * time.Second).Sub(reqs[1].At); early > 2*time.Second {
		t.Errorf("the second page came %s before the first one's time was up", early)
	}
	if late := reqs[1].At.Sub(first.At.Add(30 * time.Second)); late > 15*time.Second {
		t.Errorf("the second page came %s after the first one's time was up", late)
	}
}

// SIGKILL the leader while a page waits in the outbox (the phone service hangs): the
// standby sends it, once, and the case's acknowledgement timer, armed by the old
// leader, fires on the new one: nobody acknowledged, so the next round pages again.
func TestHAKillLeaderWithOutboxWaiting(t *testing.T) {
	t.Parallel()
	ntfy := testenv.NewRecorder(t)
	hs := testenv.Homeserver(t)
	s1, _ := hs.NewUser(t, "oncall")
	r := newHARig(t, fmt.Sprintf(`service:
  staff: ["%s"]
  on-call: {chain: ["%s"], ack-timeout: 30s}
pager:
  attempts: 10
  timeout: 2m
  contacts:
    "%s": {ntfy: "%s/first"}`, s1, s1, s1, ntfy.URL()))
	leader, _ := r.replica("leader")
	_, standby := r.replica("standby")
	ntfy.Hang(true)
	alice := testenv.NewMatrixUser(t, "alice")
	room := r.dm(alice)
	for _, s := range [][2]string{{"hello", "1 of 4"}, {"yes", "emergency"}} {
		r.say(alice, room, s[0])
		alice.Expect(t, room, s[1])
	}
	hung := ntfy.WaitFor(t, 1, 60*time.Second)[0] // the leader's attempt, held by the phone service
	if n := r.count(`SELECT count(*) FROM outbox WHERE platform = 'pager'`); n != 1 {
		t.Fatalf("%d page rows waiting, want 1", n)
	}
	killed := time.Now()
	leader.kill(t)
	ntfy.Hang(false)
	r.takeOver("after SIGKILL with outbox rows waiting", killed, standby, 15*time.Second)
	r.waitCount(0, 60*time.Second, `SELECT count(*) FROM outbox`)
	if ok := ntfy.Succeeded(); len(ok) != 1 {
		t.Errorf("%d pages delivered, want exactly 1", len(ok))
	}
	if n := r.count(`SELECT count(*) FROM timers WHERE kind = 'page_ack'`); n != 1 {
		t.Errorf("%d page_ack timers, want 1 (the acknowledgement deadline survives the take-over)", n)
	}
	// The hung attempt, its resend, and round 2 when the old leader's timer fires.
	reqs := ntfy.WaitFor(t, 3, time.Until(hung.At.Add(30*time.Second+30*time.Second)))
	due := hung.At.Add(30 * time.Second)
	if round2 := reqs[2].At; round2.Before(due.Add(-2*time.Second)) || round2.After(due.Add(15*time.Second)) {
		t.Errorf("round 2 paged %s after the first page, want about 30 s (the timer's due time)", round2.Sub(hung.At))
	}
	r.waitCount(0, 60*time.Second, `SELECT count(*) FROM outbox`)
	if ok := ntfy.Succeeded(); len(ok) != 2 {
		t.Errorf("%d pages delivered, want 2 (round 1 once, round 2 once)", len(ok))
	}
	if n := r.count(`SELECT count(*) FROM case_events WHERE kind = 'paged'`); n != 2 {
		t.Errorf("%d paged events, want 2", n)
	}
}

// SIGSTOP the leader past its lease: the standby takes over; resumed, the old leader
// finds its lease gone and exits (code 14) without having written anything after it
// was stopped, though a message for it arrived meanwhile. Every write is traced by
// a trigger with the session's application_name, which names the replica.
func TestHAPausedLeaderStepsDown(t *testing.T) {
	t.Parallel()
	r := newHARig(t, "")
	leader, _ := r.replica("leader")
	var holder string
	if err := r.db.QueryRow(`SELECT holder FROM switchboard_lease`).Scan(&holder); err != nil {
		t.Fatal(err)
	}
	_, standby := r.replica("standby")
	if _, err := r.db.Exec(`CREATE TABLE ha_test_writes (app TEXT, tbl TEXT, at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp());
CREATE FUNCTION ha_test_log() RETURNS trigger AS $$
BEGIN
	INSERT INTO ha_test_writes (app, tbl) VALUES (current_setting('application_name'), TG_TABLE_NAME);
	RETURN NULL;
END $$ LANGUAGE plpgsql;
DO $$ DECLARE r record;
BEGIN
	FOR r IN SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'ha_test_writes' LOOP
		EXECUTE format('CREATE TRIGGER ha_test_w AFTER INSERT OR UPDATE OR DELETE ON %I FOR EACH ROW EXECUTE FUNCTION ha_test_log()', r.tablename);
	END LOOP;
END $$;`); err != nil {
		t.Fatal(err)
	}
	alice := testenv.NewMatrixUser(t, "alice")
	room := r.dm(alice)
	if err := leader.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	// From when it is stopped, and no statement it sent before is still running.
	deadline := time.Now().Add(10 * time.Second)
	for !processStopped(t, leader.cmd.Process.Pid) || r.count(`SELECT count(*) FROM pg_stat_activity
		WHERE application_name = $1 AND state <> 'idle'`, store.AppName(holder)) > 0 {
		if time.Now().After(deadline) {
			t.Fatal("the leader did not stop")
		}
		time.Sleep(20 * time.Millisecond) // polling a deadline
	}
	var stoppedAt time.Time
	if err := r.db.QueryRow(`SELECT clock_timestamp()`).Scan(&stoppedAt); err != nil {
		t.Fatal(err)
	}
	stopped := time.Now()
	// The frozen leader's /sync is answered with this while it sleeps: it finds the
	// message when it wakes.
	r.say(alice, room, "hello")
	r.takeOver("after SIGSTOP past the lease", stopped, standby, haLease+15*time.Second)
	alice.Expect(t, room, "1 of 4")
	if err := leader.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-leader.done:
		if code := leader.cmd.ProcessState.ExitCode(); code != exitLeader {
			t.Errorf("the old leader exited with %d, want %d", code, exitLeader)
		}
	case <-time.After(30 * time.Second):
		t.Error("the old leader did not step down within 30 s of resuming")
		leader.kill(t) // and the trace below says whether it wrote meanwhile
	}
	var writes string
	if err := r.db.QueryRow(`SELECT COALESCE(string_agg(tbl, ' '), '') FROM ha_test_writes WHERE app = $1 AND at >= $2`,
		store.AppName(holder), stoppedAt).Scan(&writes); err != nil {
		t.Fatal(err)
	}
	if writes != "" {
		t.Errorf("the old leader wrote after it was stopped, to: %s", writes)
	}
	if n := r.count(`SELECT count(*) FROM ha_test_writes WHERE app LIKE 'switchboard:%' AND app <> $1`, store.AppName(holder)); n == 0 {
		t.Error("the trace saw no write of the new leader either: the trigger does not work")
	}
	r.say(alice, room, "no")
	alice.Expect(t, room, "2 of 4")
	onceInOrder(t, botSaid(alice, room, r.botID), "1 of 4", "2 of 4")
}
