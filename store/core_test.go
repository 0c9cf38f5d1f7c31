package store_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/lib/pq"
	"github.com/rs/zerolog"

	"switchboard/bot"
	"switchboard/config"
	"switchboard/i18n"
	"switchboard/internal/testenv"
	"switchboard/store"
)

func TestMain(m *testing.M) { testenv.Main(m, testenv.NeedPostgres) }

// desk is the core over a real database, with a clock the test moves. Replies are
// read straight from the outbox table, so each test sees exactly what was committed.
type desk struct {
	t     testing.TB
	dsn   string
	st    *store.Store
	svc   *bot.Service
	clock atomic.Int64
	seq   atomic.Int64
	cfg   bot.Config
	// storeLog, when set, receives the store's log (to see it wait for the database).
	storeLog io.Writer
	// keys, when set, are the store's data keys (testenv.DataKey otherwise).
	keys *store.Options
}

// openStore opens the store on dsn with the tests' data key; it is closed when the
// test ends.
func openStore(tb testing.TB, dsn string) *store.Store {
	tb.Helper()
	st, err := store.Open(context.Background(), dsn, store.Options{DataKey: testenv.DataKey}, zerolog.Nop())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}

func newDesk(t *testing.T, dsn string) *desk {
	t.Helper()
	d := &desk{t: t, dsn: dsn, cfg: testConfig()}
	d.clock.Store(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC).UnixMilli())
	d.open()
	return d
}

// open (re)starts the core on the same database, as a restarted bot process would.
func (d *desk) open() {
	cat, err := i18n.Load()
	if err != nil {
		d.t.Fatal(err)
	}
	ctx := context.Background()
	log := zerolog.Nop()
	if d.storeLog != nil {
		log = zerolog.New(d.storeLog)
	}
	opts := store.Options{DataKey: testenv.DataKey}
	if d.keys != nil {
		opts = *d.keys
	}
	d.st, err = store.Open(ctx, d.dsn, opts, log)
	if err != nil {
		d.t.Fatal(err)
	}
	d.t.Cleanup(func() { d.st.Close() })
	d.svc = bot.NewService(d.st, cat, d.cfg, nil, zerolog.Nop(), func() time.Time { return time.UnixMilli(d.clock.Load()) })
}

// testConfig is the shipped defaults with the rooms of the desk, shared case rooms
// (the relayed ones have tests of their own), and without the bounds on intakes, the
// IRC paste window or an on-call rotation (tests that need them set them).
func testConfig() bot.Config {
	c := config.CoreDefaults()
	c.SharedRooms = true
	c.StaffConversation, c.Staff, c.CoordinatorsConversation = "!staff:localhost", []string{"@staff:localhost"}, "!coord:localhost"
	c.IntakesPerDay, c.IntakeRate, c.IntakeBurst, c.IRCPasteWindow, c.RotationPeriod = 0, 0, 0, 0, 0
	return c
}

func (d *desk) advance(dur time.Duration) { d.clock.Add(dur.Milliseconds()) }

// send delivers one message as a fresh event and returns the replies it caused.
func (d *desk) send(sender, conv, text string) []string {
	d.t.Helper()
	return d.deliver(bot.Inbound{Platform: bot.Matrix, EventID: fmt.Sprintf("$e%d", d.seq.Add(1)), Sender: sender, Conversation: conv, Text: text})
}

func (d *desk) deliver(in bot.Inbound) []string {
	d.t.Helper()
	if in.Device == bot.DeviceUnverified {
		// As from a device its owner cross-signed; the device trust tests call Handle.
		in.Device = bot.DeviceVerified
	}
	if err := d.svc.Handle(context.Background(), in); err != nil {
		d.t.Fatalf("Handle(%q): %v", in.Text, err)
	}
	return d.drain(in.Conversation)
}

// drain takes the committed messages for conv out of the outbox.
func (d *desk) drain(conv string) []string {
	d.t.Helper()
	var msgs []bot.Outgoing
	for _, p := range []bot.Platform{bot.Matrix, bot.IRC} {
		m, err := d.st.PendingOutbox(context.Background(), p, 0, 1000)
		if err != nil {
			d.t.Fatal(err)
		}
		msgs = append(msgs, m...)
	}
	var out []string
	for _, m := range msgs {
		// A relayed message is an action only so the bridge can map it; it is read.
		if m.Conversation != conv || (m.Action != "" && m.Action != bot.ActionRelay) {
			continue
		}
		out = append(out, m.Plain)
		if err := d.st.OutboxSent(context.Background(), m.ID); err != nil {
			d.t.Fatal(err)
		}
	}
	return out
}

// drainAll takes every committed message and action, of every platform and
// conversation, out of the outbox.
func (d *desk) drainAll() []bot.Outgoing {
	d.t.Helper()
	var out []bot.Outgoing
	for _, p := range []bot.Platform{bot.Matrix, bot.IRC, bot.Pager} {
		msgs, err := d.st.PendingOutbox(context.Background(), p, 0, 1000)
		if err != nil {
			d.t.Fatal(err)
		}
		for _, m := range msgs {
			if err := d.st.OutboxSent(context.Background(), m.ID); err != nil {
				d.t.Fatal(err)
			}
		}
		out = append(out, msgs...)
	}
	return out
}

// shown is everything of an outbox row that reaches its recipient.
func shown(m bot.Outgoing) string {
	return fmt.Sprintf("%s\n%s\n%+v", m.Plain, m.Markdown, m.Payload)
}

// expectNone fails for every text that shows one of the forbidden strings
// (case-insensitively), and when there was nothing to look at.
func expectNone(t testing.TB, texts []string, forbidden ...string) {
	t.Helper()
	if len(texts) == 0 {
		t.Fatal("nothing was sent to look at")
	}
	for _, s := range texts {
		for _, f := range forbidden {
			if strings.Contains(strings.ToLower(s), strings.ToLower(f)) {
				t.Errorf("a message shows %q: %q", f, s)
			}
		}
	}
}

func (d *desk) count(query string, args ...any) int {
	d.t.Helper()
	var n int
	if err := d.st.DB.Get(&n, query, args...); err != nil {
		d.t.Fatal(err)
	}
	return n
}

// str reads one text value.
func (d *desk) str(query string, args ...any) string {
	d.t.Helper()
	var v string
	if err := d.st.DB.Get(&v, query, args...); err != nil {
		d.t.Fatal(err)
	}
	return v
}

// opened opens values read from a sealed column, joined with "|".
func (d *desk) opened(column string, sealed ...string) string {
	d.t.Helper()
	out := make([]string, len(sealed))
	for i, v := range sealed {
		var err error
		if out[i], err = d.st.OpenSealed(column, v); err != nil {
			d.t.Fatalf("%s: %v", column, err)
		}
	}
	return strings.Join(out, "|")
}

func has(replies []string, substr string) bool {
	for _, r := range replies {
		if strings.Contains(r, substr) {
			return true
		}
	}
	return false
}

func expect(t testing.TB, replies []string, substrs ...string) {
	t.Helper()
	for _, s := range substrs {
		if !has(replies, s) {
			t.Fatalf("no reply contains %q; got %q", s, replies)
		}
	}
}

const alice, room = "@alice:localhost", "!dm-alice:localhost"

func TestEverydayIntakeCreatesQueuedCase(t *testing.T) {
	d := newDesk(t, testenv.NewDB(t))
	expect(t, d.send(alice, room, "hello"), "not an emergency service", "1 of 4")
	expect(t, d.send(alice, room, "no"), "2 of 4")
	expect(t, d.send(alice, room, "No"), "3 of 4")
	expect(t, d.send(alice, room, "n"), "4 of 4")
	expect(t, d.send(alice, room, "nope"), "what happened")
	expect(t, d.send(alice, room, "Someone reverts all my edits and insults me"), "usernames")
	expect(t, d.send(alice, room, "bad_actor, User:Other_one"), "Which wiki")
	expect(t, d.send(alice, room, "en.wikipedia.org"), "language")
	r := d.send(alice, room, "English")
	expect(t, r, "Bad actor, Other one", "en.wikipedia.org", "insults me")
	r = d.send(alice, room, "yes")
	expect(t, r, "Your request is open", "SB-")
	var c struct {
		Route, State string
		Parties      pq.StringArray
	}
	if err := d.st.DB.Get(&c, `SELECT route, state, parties FROM cases`); err != nil {
		t.Fatal(err)
	}
	if c.Route != "volunteer" || c.State != "queued" || d.opened("cases.parties", c.Parties...) != "Bad actor|Other one" {
		t.Errorf("case = %+v", c)
	}
	if n := d.count(`SELECT count(*) FROM case_events WHERE kind = 'case_opened'`); n != 1 {
		t.Errorf("%d case_opened events", n)
	}
	if n := d.count(`SELECT count(*) FROM outbox WHERE conversation = $1`, "!staff:localhost"); n != 0 {
		t.Error("an everyday case must not notify staff")
	}
	if n := d.count(`SELECT count(*) FROM timers WHERE kind = 'intake_expiry'`); n != 0 {
		t.Error("the intake's expiry timer is left after the intake completed")
	}
	if n := d.count(`SELECT count(*) FROM timers WHERE kind IN ('queue_alert', 'reassure')`); n != 2 {
		t.Errorf("a queued case must arm the queue alert and the reassurance: %d timers", n)
	}
	expect(t, d.send(alice, room, "!status"), "waiting for a volunteer")
	expect(t, d.send(alice, room, "They did it again"), "added that to your request")
	if n := d.count(`SELECT count(*) FROM case_additions`); n != 1 {
		t.Errorf("%d additions", n)
	}
}

func TestAnyYesOpensStaffCaseAtOnceWithoutContentInNotice(t *testing.T) {
	d := newDesk(t, testenv.NewDB(t))
	// The person the requester will name already asked for help: the finished intake
	// then brings staff a cross-case link, a notice written after the story is known.
	d.intake("@harasser_name:localhost", "!dm-harasser:localhost", "none", "en")
	d.drainAll()
	d.send(alice, room, "hello")
	d.send(alice, room, "no")
	r := d.send(alice, room, "yes") // a minor is involved
	expect(t, r, "emergency@wikimedia.org", "3 of 4")
	if r[0] == "" || !strings.Contains(r[0], "staff") {
		t.Errorf("the pointers must come first: %q", r)
	}
	if n := d.count(`SELECT count(*) FROM cases WHERE route = 'staff' AND state = 'intake'`); n != 1 {
		t.Fatalf("want the staff case opened at the first yes, found %d", n)
	}
	notice := d.drain("!staff:localhost")
	if len(notice) != 1 || !strings.Contains(notice[0], "SB-") {
		t.Fatalf("staff notice: %q", notice)
	}
	d.send(alice, room, "no")
	d.send(alice, room, "no")
	secret := "My neighbour Jane Secretname threatens my kid"
	d.send(alice, room, secret)
	d.send(alice, room, "Harasser_name")
	d.send(alice, room, "de.wikipedia.org")
	d.send(alice, room, "de")
	expect(t, d.send(alice, room, "ja"), "Mitarbeitenden der Wikimedia Foundation") // she chose German
	if d.opened("cases.description", d.str(`SELECT description FROM cases WHERE route = 'staff' AND state = 'staff'`)) != secret {
		t.Error("the staff case did not get the details")
	}
	// Everything sent to anyone but the requester herself, now that she told her
	// story: the staff notices, the link among them.
	var staffSaw, elsewhere []string
	for _, m := range d.drainAll() {
		switch m.Conversation {
		case room:
		case "!staff:localhost":
			staffSaw = append(staffSaw, shown(m))
		default:
			elsewhere = append(elsewhere, shown(m))
		}
	}
	expect(t, staffSaw, "Cross-case link")
	if len(staffSaw) != 1 || len(elsewhere) != 0 {
		t.Errorf("after the first notice, want only the link notice; staff saw %q, others %q", staffSaw, elsewhere)
	}
	expectNone(t, append(append(notice, staffSaw...), elsewhere...), secret, "Secretname", "Jane", "threatens", "Harasser")
}

func TestDuplicateDeliveryChangesNothing(t *testing.T) {
	d := newDesk(t, testenv.NewDB(t))
	d.send(alice, room, "hello")
	in := bot.Inbound{Platform: bot.Matrix, EventID: "$same", Sender: alice, Conversation: room, Text: "no"}
	expect(t, d.deliver(in), "2 of 4")
	before := d.count(`SELECT count(*) FROM case_events`)
	if r := d.deliver(in); len(r) != 0 {
		t.Errorf("a redelivered event was answered again: %q", r)
	}
	if after := d.count(`SELECT count(*) FROM case_events`); after != before {
		t.Errorf("a redelivered event wrote %d audit rows", after-before)
	}
	expect(t, d.send(alice, room, "!status"), "2 of 4")
}

func TestRestartContinuesAtSameQuestion(t *testing.T) {
	dsn := testenv.NewDB(t)
	d := newDesk(t, dsn)
	d.send(alice, room, "hi")
	d.send(alice, room, "no")
	d.send(alice, room, "no")
	d.st.Close()
	d.open() // a new process on the same database
	r := d.send(alice, room, "no")
	expect(t, r, "4 of 4")
	if has(r, "1 of 4") || has(r, "not an emergency service") {
		t.Errorf("restart asked again: %q", r)
	}
}

func TestSecondRoomFindsOpenIntake(t *testing.T) {
	d := newDesk(t, testenv.NewDB(t))
	d.send(alice, room, "hi")
	d.send(alice, room, "no")
	r := d.send(alice, "!second:localhost", "hello again")
	expect(t, r, "carry on here", "2 of 4")
	if n := d.count(`SELECT count(*) FROM intakes`); n != 1 {
		t.Errorf("%d intakes; the second room must not start another", n)
	}
	expect(t, d.send(alice, "!second:localhost", "no"), "3 of 4")
}

func TestCancelWithdrawsAndStatusAlwaysAnswers(t *testing.T) {
	d := newDesk(t, testenv.NewDB(t))
	expect(t, d.send(alice, room, "!status"), "no open request")
	expect(t, d.send(alice, room, "!cancel"), "nothing to withdraw")
	d.send(alice, room, "hi")
	d.send(alice, room, "yes") // staff case opened
	d.drain("!staff:localhost")
	expect(t, d.send(alice, room, "!status"), "still gathering", "2 of 4")
	expect(t, d.send(alice, room, "!cancel"), "withdrawn")
	if n := d.count(`SELECT count(*) FROM cases WHERE state = 'withdrawn'`); n != 1 {
		t.Error("the staff case was not withdrawn")
	}
	if n := d.count(`SELECT count(*) FROM intakes WHERE status = 'cancelled'`); n != 1 {
		t.Error("the intake was not cancelled")
	}
	expect(t, d.send(alice, room, "!status"), "no open request")
	expect(t, d.send(alice, room, "hello"), "1 of 4") // a fresh start is possible
}

func TestBadInputChangesNothing(t *testing.T) {
	d := newDesk(t, testenv.NewDB(t))
	d.send(alice, room, "hi")
	state := func() string {
		var s string
		if err := d.st.DB.Get(&s, `SELECT step || version FROM intakes`); err != nil {
			t.Fatal(err)
		}
		return s
	}
	before := state()
	huge := strings.Repeat("a", 100*1024)
	cases := []struct{ text, want string }{
		{"", "looked empty"},
		{"   \x00\x01 ", "looked empty"},
		{huge, "too long"},
		{"!frobnicate", "do not know the command !frobnicate"},
		{"!add", "after !add"},
		{"<b>yes</b>", "did not understand"},
	}
	for _, tc := range cases {
		expect(t, d.send(alice, room, tc.text), tc.want)
		if s := state(); s != before {
			t.Fatalf("%q changed the intake: %s -> %s", tc.text[:min(len(tc.text), 20)], before, s)
		}
	}
	for i, k := range []bot.Kind{bot.KindNonText, bot.KindUndecryptable, bot.KindText, bot.KindUnencrypted} {
		r := d.deliver(bot.Inbound{Platform: bot.Matrix, EventID: fmt.Sprintf("$k%d", k), Sender: "@stranger:localhost",
			Conversation: "!x:localhost", Kind: k, Text: "secret", Group: i == 2})
		if len(r) != 1 {
			t.Errorf("kind %d: %q", k, r)
		}
	}
	if n := d.count(`SELECT count(*) FROM people WHERE external_id = '@stranger:localhost'`); n != 0 {
		t.Error("a message we could not use created a person")
	}
	// HTML is kept as text, and escaped in the Markdown form.
	d.send(alice, room, "no")
	d.send(alice, room, "no")
	d.send(alice, room, "no")
	d.send(alice, room, "no")
	d.send(alice, room, "<img src=x onerror=alert(1)> **bold**")
	d.send(alice, room, "none")
	d.send(alice, room, "meta.wikimedia.org")
	if err := d.svc.Handle(context.Background(), bot.Inbound{Platform: bot.Matrix, EventID: "$lang", Sender: alice, Conversation: room, Text: "en"}); err != nil {
		t.Fatal(err)
	}
	msgs, err := d.st.PendingOutbox(context.Background(), bot.Matrix, 0, 10)
	if err != nil || len(msgs) == 0 {
		t.Fatalf("no summary: %d messages, %v", len(msgs), err)
	}
	summary := msgs[len(msgs)-1]
	if !strings.Contains(summary.Plain, "<img src=x onerror=alert(1)> **bold**") || !strings.Contains(summary.Markdown, `\<img src\=x onerror\=alert\(1\)\> \*\*bold\*\*`) {
		t.Errorf("summary: plain %q, markdown %q", summary.Plain, summary.Markdown)
	}
}

func TestIntakeExpiresByTimer(t *testing.T) {
	d := newDesk(t, testenv.NewDB(t))
	d.send(alice, room, "hi")
	d.advance(23 * time.Hour)
	d.send(alice, room, "no") // an answer moves the deadline
	d.drain(room)
	d.advance(23 * time.Hour)
	// The timer set at the start is due now; it finds the answer and sleeps again.
	if _, err := d.svc.FireDueTimers(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := d.count(`SELECT count(*) FROM intakes WHERE status = 'open'`); n != 1 {
		t.Fatal("the intake expired 23 hours after its last answer")
	}
	if got := d.drain(room); len(got) != 0 {
		t.Fatalf("said before the deadline: %q", got)
	}
	d.advance(2 * time.Hour)
	if n, err := d.svc.FireDueTimers(context.Background()); err != nil || n != 1 {
		t.Fatalf("fired %d, %v", n, err)
	}
	expect(t, d.drain(room), "closed your unfinished request", "24 hours")
	if n := d.count(`SELECT count(*) FROM intakes WHERE status = 'expired'`); n != 1 {
		t.Error("intake not expired")
	}
	if n, err := d.svc.FireDueTimers(context.Background()); err != nil || n != 0 {
		t.Errorf("a timer fired twice: %d, %v", n, err)
	}
}

func TestAuditLogIsAppendOnly(t *testing.T) {
	d := newDesk(t, testenv.NewDB(t))
	d.send(alice, room, "hi")
	if _, err := d.st.DB.Exec(`UPDATE case_events SET kind = 'x'`); err == nil || !strings.Contains(err.Error(), "append-only") {
		t.Errorf("update allowed: %v", err)
	}
	if _, err := d.st.DB.Exec(`DELETE FROM case_events`); err == nil {
		t.Error("delete allowed")
	}
}

// One person's messages arriving at once are serialised: exactly one intake, and
// each answer applied exactly once, to the intake as the one before left it.
func TestConcurrentMessagesOfOnePerson(t *testing.T) {
	d := newDesk(t, testenv.NewDB(t))
	atOnce := func(text string, n int) {
		t.Helper()
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				in := bot.Inbound{Platform: bot.Matrix, EventID: fmt.Sprintf("$%s%d", text, i), Sender: alice, Conversation: room, Text: text}
				if err := d.svc.Handle(context.Background(), in); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
	}
	intake := func() (step string, version int) {
		t.Helper()
		if err := d.st.DB.QueryRow(`SELECT step, version FROM intakes`).Scan(&step, &version); err != nil {
			t.Fatal(err)
		}
		return
	}
	count := func(replies []string, s string) int {
		n := 0
		for _, r := range replies {
			n += strings.Count(r, s)
		}
		return n
	}

	// Ten first messages: one starts the intake, the nine others meet its first
	// question and are not an answer to it.
	atOnce("hello", 10)
	if n := d.count(`SELECT count(*) FROM intakes`); n != 1 {
		t.Fatalf("%d intakes", n)
	}
	r := d.drain(room)
	if g := count(r, "not an emergency service"); g != 1 || len(r) < 10 {
		t.Errorf("%d greetings in %d replies, want one greeting and an answer to each message: %q", g, len(r), r)
	}
	step0, v0 := intake()
	if step0 != string(bot.StepHarm) {
		t.Fatalf("the intake is at %s after greetings only", step0)
	}

	// Four answers at once, each applied once: the intake moves four questions on,
	// each question is answered once and asked once.
	atOnce("no", 4)
	if step, v := intake(); step != string(bot.StepDescription) || v != v0+4 {
		t.Errorf("after four answers the intake is at %s, version %d; want %s, version %d", step, v, bot.StepDescription, v0+4)
	}
	var answered []string
	if err := d.st.DB.Select(&answered, `SELECT detail->>'step' FROM case_events WHERE actor = 'requester'
		AND detail ? 'step' ORDER BY detail->>'step'`); err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(answered, ","), "q_harm,q_illegal,q_minor,q_offwiki"; got != want {
		t.Errorf("answer events for steps %s, want %s", got, want)
	}
	r = d.drain(room)
	for _, q := range []string{"2 of 4", "3 of 4", "4 of 4", "what happened"} {
		if n := count(r, q); n != 1 {
			t.Errorf("%q asked %d times: %q", q, n, r)
		}
	}
}

// The database going away mid-run delays answers but loses nothing: the core waits and
// retries, and the message is handled once the database is back.
func TestDatabaseRestartMidRun(t *testing.T) {
	pg := testenv.NewPostgres(t)
	away := newLogSignal("Database unavailable")
	d := &desk{t: t, dsn: pg.NewDatabase(t), cfg: testConfig(), storeLog: away}
	d.clock.Store(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC).UnixMilli())
	d.open()
	d.send(alice, room, "hi")
	if err := pg.Down(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- d.svc.Handle(ctx, bot.Inbound{Platform: bot.Matrix, EventID: "$during", Sender: alice, Conversation: room, Text: "no"})
	}()
	select {
	case <-away.seen: // the core met the database gone and waits for it
	case err := <-done:
		t.Fatalf("Handle returned (%v) while the database was down", err)
	case <-time.After(30 * time.Second):
		t.Fatal("the core did not notice the database going away")
	}
	select {
	case err := <-done:
		t.Fatalf("Handle returned (%v) while the database was down", err)
	default:
	}
	if err := pg.Up(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Handle: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the message was not handled after the database came back")
	}
	expect(t, d.drain(room), "2 of 4")
	expect(t, d.send(alice, room, "no"), "3 of 4")
}

// A store opened while the database is down waits for it instead of failing.
func TestOpenWaitsForDatabase(t *testing.T) {
	pg := testenv.NewPostgres(t)
	dsn := pg.NewDatabase(t)
	if err := pg.Down(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	type opened struct {
		st  *store.Store
		err error
	}
	away := newLogSignal("Database unavailable")
	done := make(chan opened, 1)
	go func() {
		st, err := store.Open(ctx, dsn, store.Options{DataKey: testenv.DataKey}, zerolog.New(away))
		done <- opened{st, err}
	}()
	select {
	case <-away.seen: // it tried, found nothing, and waits
	case o := <-done:
		if o.st != nil {
			o.st.Close()
		}
		t.Fatalf("Open returned (%v) while the database was down", o.err)
	case <-time.After(30 * time.Second):
		t.Fatal("Open did not report the database missing")
	}
	if err := pg.Up(); err != nil {
		t.Fatal(err)
	}
	select {
	case o := <-done:
		if o.err != nil {
			t.Fatal(o.err)
		}
		o.st.Close()
	case <-time.After(30 * time.Second):
		t.Fatal("Open did not return after the database came back")
	}
}

// logSignal is a log that closes seen at the first line containing want.
type logSignal struct {
	want []byte
	once sync.Once
	seen chan struct{}
}

func newLogSignal(want string) *logSignal {
	return &logSignal{want: []byte(want), seen: make(chan struct{})}
}

func (l *logSignal) Write(p []byte) (int, error) {
	if bytes.Contains(p, l.want) {
		l.once.Do(func() { close(l.seen) })
	}
	return len(p), nil
}

// The language a person chooses picks the catalogue from then on; keys a translation
// lacks fall back to English.
func TestChosenLanguagePicksCatalogue(t *testing.T) {
	en, err := os.ReadFile("../i18n/en.json")
	if err != nil {
		t.Fatal(err)
	}
	cat, err := i18n.LoadFS(fstest.MapFS{
		"en.json": {Data: en},
		"de.json": {Data: []byte(`{"switchboard-summary": "Zusammenfassung: $1 / $2 / $3 / $4. Soll ich die Anfrage eröffnen?"}`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	d := newDesk(t, testenv.NewDB(t))
	d.svc = bot.NewService(d.st, cat, d.cfg, nil, zerolog.Nop(), func() time.Time { return time.UnixMilli(d.clock.Load()) })
	for _, a := range []string{"hallo", "nein", "nein", "nein", "nein", "Jemand beleidigt mich ständig", "keine", "de.wikipedia.org"} {
		d.send(alice, room, a)
	}
	expect(t, d.send(alice, room, "Deutsch"), "Zusammenfassung: de.wikipedia.org / — / de / Jemand beleidigt mich")
	expect(t, d.send(alice, room, "ja"), "Your request is open") // not translated: English
	var lang string
	if err := d.st.DB.Get(&lang, `SELECT language FROM people`); err != nil || lang != "de" {
		t.Errorf("language kept: %q %v", lang, err)
	}
}

// An unfinished staff-route intake that expires still reaches staff with what it has.
func TestExpiredStaffIntakeStaysWithStaff(t *testing.T) {
	d := newDesk(t, testenv.NewDB(t))
	d.send(alice, room, "hi")
	d.send(alice, room, "yes")
	d.drain("!staff:localhost")
	d.advance(25 * time.Hour)
	if n, err := d.svc.FireDueTimers(context.Background()); err != nil || n != 1 {
		t.Fatalf("fired %d, %v", n, err)
	}
	expect(t, d.drain(room), "passed what you told me to Wikimedia Foundation staff")
	if n := d.count(`SELECT count(*) FROM cases WHERE route = 'staff' AND state = 'staff' AND q_harm`); n != 1 {
		t.Error("the staff case did not stay open for staff")
	}
}

// IRC requesters hear early that IRC is not end-to-end encrypted; one without a
// services account also hears that the request is tied to this connection.
func TestIRCIntakeWarnings(t *testing.T) {
	d := newDesk(t, testenv.NewDB(t))
	irc := testConfig()
	irc.MatrixContact = "@switchboard:example.net"
	d.svc = bot.NewService(d.st, mustCatalogue(t), irc, nil, zerolog.Nop(), nil)
	r := d.deliver(bot.Inbound{Platform: bot.IRC, EventID: "irc-1", Sender: "carol", Conversation: "carol", Text: "hi"})
	expect(t, r, "not end-to-end encrypted", "@switchboard:example.net", "1 of 4")
	if has(r, "NickServ") {
		t.Error("an identified requester was told to identify")
	}
	r = d.deliver(bot.Inbound{Platform: bot.IRC, EventID: "irc-2", Sender: "~dave@conn-7", Conversation: "dave", Text: "hi", Unidentified: true})
	expect(t, r, "not end-to-end encrypted", "NickServ IDENTIFY", "1 of 4")
	if n := d.count(`SELECT count(*) FROM intakes WHERE unidentified`); n != 1 {
		t.Errorf("%d unidentified intakes", n)
	}
	if r := d.deliver(bot.Inbound{Platform: bot.Matrix, EventID: "$m", Sender: alice, Conversation: room, Text: "hi"}); has(r, "IRC") {
		t.Error("a Matrix requester was told about IRC")
	}
}

func mustCatalogue(t *testing.T) *i18n.Catalogue {
	t.Helper()
	cat, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

// Retention: the content of an old ended case is erased, its facts stay.
func TestPurgeForgetsOldContent(t *testing.T) {
	d := newDesk(t, testenv.NewDB(t))
	d.send(alice, room, "hello")
	for _, a := range []string{"no", "no", "no", "no", "A very private story", "Some_one", "en.wikipedia.org", "en", "yes"} {
		d.send(alice, room, a)
	}
	d.send(alice, room, "one more detail")
	expect(t, d.send(alice, room, "!cancel"), "withdrawn")
	d.send("@bob:localhost", "!dm-bob:localhost", "hello") // an open intake stays untouched
	ctx := context.Background()
	if n, err := d.st.Purge(ctx, bot.PurgeBefore{Content: time.UnixMilli(d.clock.Load()).Add(-time.Hour)}); err != nil || n != 0 {
		t.Fatalf("purged a case still within retention: %d %v", n, err)
	}
	// A phone acknowledgement used now, and one used just before the purge.
	used := func(nonce string) {
		t.Helper()
		if _, err := d.st.DB.Exec(`INSERT INTO pager_ack_tokens (nonce, used_at) VALUES ($1, $2)`, nonce, d.clock.Load()); err != nil {
			t.Fatal(err)
		}
	}
	used("old-token")
	d.advance(100 * 24 * time.Hour)
	used("fresh-token")
	now := time.UnixMilli(d.clock.Load())
	if n, err := d.st.Purge(ctx, bot.PurgeBefore{Content: now.Add(-90 * 24 * time.Hour), Dedup: now.Add(-30 * 24 * time.Hour)}); err != nil || n != 1 {
		t.Fatalf("purged %d cases: %v", n, err)
	}
	if n := d.count(`SELECT count(*) FROM cases WHERE description = '' AND parties = '{}' AND state = 'withdrawn'`); n != 1 {
		t.Error("the case content was not erased")
	}
	if n := d.count(`SELECT count(*) FROM case_additions`) + d.count(`SELECT count(*) FROM intakes WHERE description <> '' AND status <> 'open'`); n != 0 {
		t.Error("additions or intake answers were kept")
	}
	if n := d.count(`SELECT count(*) FROM processed_events`); n != 0 {
		t.Errorf("%d old event IDs kept", n)
	}
	if got := d.str(`SELECT string_agg(nonce, ',') FROM pager_ack_tokens`); got != "fresh-token" {
		t.Errorf("used acknowledgement tokens after the purge: %q, want only the fresh one", got)
	}
	if n := d.count(`SELECT count(*) FROM case_events WHERE kind = 'case_withdrawn'`); n != 1 {
		t.Error("the audit log must stay")
	}
	if n := d.count(`SELECT count(*) FROM intakes WHERE status = 'open'`); n != 1 {
		t.Error("an open intake was touched")
	}
}

// IRC lines that come within the paste window of the story are more of it, and get no
// answer of their own; after a pause a line is the answer again. Matrix messages are
// always answers (a Matrix client sends a paste as one message).
func TestPastedStoryIsOneStory(t *testing.T) {
	d := &desk{t: t, dsn: testenv.NewDB(t), cfg: testConfig()}
	d.cfg.IRCPasteWindow = time.Second
	d.clock.Store(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC).UnixMilli())
	d.open()
	say := func(text string) []string {
		t.Helper()
		return d.deliver(bot.Inbound{Platform: bot.IRC, EventID: fmt.Sprintf("irc-%d", d.seq.Add(1)), Sender: "carol",
			Conversation: "carol", Text: text})
	}
	for _, s := range []string{"hello", "no", "no", "no", "no"} {
		say(s)
		d.advance(10 * time.Second)
	}
	expect(t, say("He reverts all my edits."), "usernames")
	for _, line := range []string{"He calls me names in summaries.", "It started in May."} {
		d.advance(300 * time.Millisecond)
		if got := say(line); len(got) != 0 {
			t.Fatalf("a pasted line was answered: %q", got)
		}
	}
	d.advance(10 * time.Second)
	expect(t, say("Example_troll"), "Which wiki")
	d.advance(10 * time.Second)
	say("en.wikipedia.org")
	d.advance(10 * time.Second)
	expect(t, say("en"), "He reverts all my edits.\nHe calls me names in summaries.\nIt started in May.")
	if n := d.count(`SELECT count(*) FROM case_events WHERE kind = 'continued'`); n != 2 {
		t.Errorf("%d continuation events, want 2", n)
	}
	// IRC never delivers a line twice, so nothing is kept to recognise one.
	if n := d.count(`SELECT count(*) FROM processed_events WHERE platform = 'irc'`); n != 0 {
		t.Errorf("%d IRC event IDs kept", n)
	}

	// On Matrix the same quick message is the answer to the question.
	d.send(alice, room, "hello")
	for _, s := range []string{"no", "no", "no", "no", "He reverts all my edits."} {
		d.advance(100 * time.Millisecond)
		d.send(alice, room, s)
	}
	d.advance(100 * time.Millisecond)
	expect(t, d.send(alice, room, "Example_troll"), "Which wiki")
}
