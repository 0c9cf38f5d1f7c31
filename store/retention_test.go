package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"switchboard/bot"
	"switchboard/internal/testenv"
	"switchboard/store"
)

// ircCase walks carol through an intake on IRC (she is relayed) naming parties, has
// @a accept it and work it in !case:localhost, and returns its reference.
func (d *desk) ircCase(a string) string {
	d.t.Helper()
	for _, s := range []string{"hello", "no", "no", "no", "no", planted.story, planted.parties, "en.wikipedia.org", "en"} {
		d.carol(s)
	}
	expect(d.t, d.carol("yes"), "Your request is open")
	ref := d.str(`SELECT ref FROM cases c JOIN people p ON p.id = c.person_id WHERE p.external_id = 'carol' ORDER BY c.id DESC LIMIT 1`)
	expect(d.t, d.send("@a:localhost", a, "!accept "+ref), "is yours")
	d.roomFor("!case:localhost")
	d.joins("@a:localhost", "!case:localhost")
	d.drain("!case:localhost")
	return ref
}

func (d *desk) carol(text string) []string {
	return d.deliver(bot.Inbound{Platform: bot.IRC, EventID: fmt.Sprintf("irc-%d", d.seq.Add(1)), Sender: "carol",
		Conversation: "carol", Text: text})
}

// pending lists the outbox rows of a conversation, without taking them out.
func (d *desk) pending(p bot.Platform, conv string) []bot.Outgoing {
	d.t.Helper()
	rows, err := d.st.PendingOutbox(context.Background(), p, 0, 1000)
	if err != nil {
		d.t.Fatal(err)
	}
	var out []bot.Outgoing
	for _, r := range rows {
		if r.Conversation == conv {
			out = append(out, r)
		}
	}
	return out
}

// Before, a message for an IRC requester who was away waited in the outbox for ever,
// and reached whoever held her account name when it was next online; a first message
// in the busy line waited for ever too.
func TestUndeliveredMessagesExpire(t *testing.T) {
	d := newDesk(t, testenv.NewDB(t))
	d.reconfigure(func(c *bot.Config) { c.SharedRooms = false })
	a := d.volunteer("@a:localhost", "en", "!on")
	d.ircCase(a)
	d.inRoom("@a:localhost", "!case:localhost", planted.relay)
	if got := d.pending(bot.IRC, "carol"); len(got) == 0 || !strings.Contains(got[len(got)-1].Plain, planted.relay) {
		t.Fatalf("waiting for carol: %+v", got)
	}
	d.reconfigure(func(c *bot.Config) { c.IntakeRate, c.IntakeBurst = 1, 1 })
	d.send("@first:localhost", "!dm-first:localhost", "hello")
	expect(t, d.send("@dora:localhost", "!dm-dora:localhost", "hello"), "very busy")
	// A room action as old as the message, which must never expire.
	d.inRoom("@a:localhost", "!case:localhost", "!transfer")
	if n := d.count(`SELECT count(*) FROM outbox WHERE action = 'members'`); n == 0 {
		t.Fatal("the transfer queued no membership action")
	}

	ctx := context.Background()
	d.advance(6 * 24 * time.Hour) // within the week: kept
	if _, err := d.svc.Purge(ctx); err != nil {
		t.Fatal(err)
	}
	if len(d.pending(bot.IRC, "carol")) == 0 || d.count(`SELECT count(*) FROM intake_waitlist`) != 1 {
		t.Fatal("a message or the waiting line was dropped within the expiry")
	}
	d.advance(2 * 24 * time.Hour)
	if _, err := d.svc.Purge(ctx); err != nil {
		t.Fatal(err)
	}
	if got := d.pending(bot.IRC, "carol"); len(got) != 0 {
		t.Errorf("still waiting for carol after the expiry: %+v", got)
	}
	if n := d.count(`SELECT count(*) FROM intake_waitlist`); n != 0 {
		t.Errorf("%d first messages still in the busy line after the expiry", n)
	}
	if n := d.count(`SELECT count(*) FROM outbox WHERE action = 'members'`); n == 0 {
		t.Error("a room action expired")
	}
}

// TestRoomActionsNeverExpire: the store's SQL list of actions that never expire is the
// core's (bot.Action.Expires).
func TestRoomActionsNeverExpire(t *testing.T) {
	for _, a := range []bot.Action{"", bot.ActionCreateRoom, bot.ActionInvite, bot.ActionRemove, bot.ActionMembers,
		bot.ActionPage, bot.ActionPageAck, bot.ActionPageResolve, bot.ActionRelay, bot.ActionLeave, bot.ActionTrustIdentity} {
		if inList := strings.Contains(store.RoomActions, "'"+string(a)+"'"); inList == a.Expires() {
			t.Errorf("action %q: expires %v, in the store's list of room actions %v", a, a.Expires(), inList)
		}
	}
}

// Before, a transfer's, a suspension's or a block's reason was written into the
// append-only audit log, and stayed there for ever.
func TestReasonsLiveOutsideTheLog(t *testing.T) {
	d := newDesk(t, testenv.NewDB(t))
	a := d.volunteer("@a:localhost", "en", "!on")
	d.volunteer("@b:localhost", "en")
	ref := d.intake(alice, room, "none", "en")
	expect(t, d.send("@a:localhost", a, "!accept "+ref), "is yours")
	d.roomFor("!case:localhost")
	d.joins("@a:localhost", "!case:localhost")
	d.inRoom("@a:localhost", "!case:localhost", "!transfer going on leave, Kestrelmoor knows")
	expect(t, d.send(staff, staffRoom, "!volunteer suspend @b:localhost shouted at Umbrafield"), "now suspended")
	expect(t, d.send(staff, staffRoom, "!block irc:mallory 30d threatened Brightwater"), "blocked")
	audit := strings.Join(d.send(staff, staffRoom, "!audit "+ref), "\n") +
		strings.Join(d.send(staff, staffRoom, "!audit @b:localhost"), "\n") + strings.Join(d.send(staff, staffRoom, "!audit irc:mallory"), "\n")
	for _, want := range []string{"reason=going on leave, Kestrelmoor knows", "reason=shouted at Umbrafield", "reason=threatened Brightwater"} {
		if !strings.Contains(audit, want) {
			t.Errorf("!audit does not show %q:\n%s", want, audit)
		}
	}
	for _, word := range []string{"Kestrelmoor", "Umbrafield", "Brightwater"} {
		if n := d.count(`SELECT count(*) FROM case_events WHERE detail::text LIKE $1`, "%"+word+"%"); n != 0 {
			t.Errorf("a reason (%s) is in the append-only log", word)
		}
	}
	if n := d.count(`SELECT count(*) FROM audit_texts`); n != 3 {
		t.Fatalf("%d reasons kept apart, want 3", n)
	}

	// The case ends; after the retention period its reason goes with its content, and
	// the reasons about no case go too. The events stay.
	events := d.count(`SELECT count(*) FROM case_events`)
	d.send(alice, room, "!cancel")
	d.advance(91 * 24 * time.Hour)
	if _, err := d.svc.Purge(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := d.count(`SELECT count(*) FROM audit_texts`); n != 0 {
		t.Errorf("%d reasons kept past the retention period", n)
	}
	after := strings.Join(d.send(staff, staffRoom, "!audit "+ref), "\n")
	if !strings.Contains(after, "transferred") || strings.Contains(after, "reason=") {
		t.Errorf("after the purge, !audit shows:\n%s", after)
	}
	if n := d.count(`SELECT count(*) FROM case_events`); n < events {
		t.Errorf("the audit log lost events: %d, had %d", n, events)
	}
}

// olderDatabase makes a database as the migrations up to version left it, with the
// version recorded as dbutil does, for a test to fill before a start upgrades it.
func olderDatabase(t *testing.T, version int) string {
	t.Helper()
	dsn := testenv.NewDB(t)
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	files, _ := filepath.Glob("upgrades/*.sql")
	header := regexp.MustCompile(`^-- v(\d+) -> v(\d+):`)
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		m := header.FindStringSubmatch(string(raw))
		if m == nil {
			t.Fatalf("%s: no version header", f)
		}
		if to, _ := strconv.Atoi(m[2]); to > version {
			continue
		}
		if _, err := db.Exec(string(raw)); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
	if _, err := db.Exec(fmt.Sprintf(`CREATE TABLE switchboard_version (version INTEGER, compat INTEGER);
		INSERT INTO switchboard_version VALUES (%d, %d)`, version, version)); err != nil {
		t.Fatal(err)
	}
	return dsn
}

// The reasons an older version wrote into the log are moved out of it by the upgrade,
// and sealed at the start that follows.
func TestUpgradeMovesReasonsOutOfTheLog(t *testing.T) {
	dsn := olderDatabase(t, 13)
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`INSERT INTO case_events (actor, kind, detail, at, subject) VALUES
		('@staff:localhost', 'volunteer_suspended', '{"from": "active", "to": "suspended", "reason": "shouted at Umbrafield"}', 1, '@b:localhost'),
		('@staff:localhost', 'blocked', '{"reason": "threatened Brightwater"}', 2, 'mallory'),
		('@staff:localhost', 'case_closed', '{"reason": "resolved"}', 3, '')`); err != nil {
		t.Fatal(err)
	}
	st := openStore(t, dsn)
	var inLog int
	if err := db.QueryRow(`SELECT count(*) FROM case_events WHERE detail::text LIKE '%Umbrafield%' OR detail::text LIKE '%Brightwater%'`).Scan(&inLog); err != nil || inLog != 0 {
		t.Errorf("%d reasons still in the log (%v)", inLog, err)
	}
	var closed string
	if err := db.QueryRow(`SELECT detail->>'reason' FROM case_events WHERE kind = 'case_closed'`).Scan(&closed); err != nil || closed != "resolved" {
		t.Errorf("a closing's reason (a fixed choice, not free text) was moved: %q %v", closed, err)
	}
	var events []bot.Event
	if err := st.InTx(context.Background(), func(tx bot.Tx) (err error) {
		events, err = tx.AuditOf(context.Background(), "@staff:localhost", 10)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, e := range events {
		texts = append(texts, e.Text)
	}
	if got := strings.Join(texts, "|"); got != "shouted at Umbrafield|threatened Brightwater|" {
		t.Errorf("the reasons read back as %q", got)
	}
	var sealed int
	if err := db.QueryRow(`SELECT count(*) FROM audit_texts WHERE text LIKE 'sb1:%'`).Scan(&sealed); err != nil || sealed != 2 {
		t.Errorf("%d reasons sealed (%v), want 2", sealed, err)
	}
}

// Before, the purge left people's answers to the safety questions, what was added
// during an intake that never became a case, who a case named (their hashes), and the
// bot in the case's rooms with its keys.
func TestPurgeErasesAnswersAndLeavesRooms(t *testing.T) {
	d := newDesk(t, testenv.NewDB(t))
	d.reconfigure(func(c *bot.Config) { c.SharedRooms = false })
	a := d.volunteer("@a:localhost", "en", "!on")
	ref := d.ircCase(a)
	d.inRoom("@a:localhost", "!case:localhost", "How are you today?")
	d.carol("Better, thanks")
	// The bridge records what it relayed.
	caseID := int64(d.count(`SELECT id FROM cases WHERE ref = $1`, ref))
	if err := d.st.RecordRelayed(context.Background(), caseID, "!case:localhost", "$helper", "carol", "irc-line"); err != nil {
		t.Fatal(err)
	}
	expect(t, d.inRoom("@a:localhost", "!case:localhost", "!close resolved"), "is closed")
	d.actions()
	// Bob's intake ends unfinished, with an answer the bot could not read kept.
	d.send("@bob:localhost", "!dm-bob:localhost", "hello")
	d.send("@bob:localhost", "!dm-bob:localhost", "perhaps, I am not sure")
	d.advance(25 * time.Hour)
	if _, err := d.svc.FireDueTimers(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := d.count(`SELECT count(*) FROM case_additions WHERE case_id IS NULL`); n == 0 {
		t.Fatal("no addition kept for bob's intake: the test's premise is gone")
	}
	if n := d.count(`SELECT count(*) FROM cases WHERE ref = $1 AND q_harm IS NOT NULL AND party_keys <> '{}'`, ref); n != 1 {
		t.Fatal("the case holds no safety answers or party hashes to erase")
	}

	d.advance(91 * 24 * time.Hour)
	if n, err := d.svc.Purge(context.Background()); err != nil || n != 1 {
		t.Fatalf("purged %d cases: %v", n, err)
	}
	for what, q := range map[string]string{
		"safety answers of cases":   `SELECT count(*) FROM cases WHERE q_harm IS NOT NULL OR q_minor IS NOT NULL OR q_illegal IS NOT NULL OR q_offwiki IS NOT NULL`,
		"safety answers of intakes": `SELECT count(*) FROM intakes WHERE q_harm IS NOT NULL OR q_minor IS NOT NULL OR q_illegal IS NOT NULL OR q_offwiki IS NOT NULL`,
		"party hashes":              `SELECT count(*) FROM cases WHERE party_keys <> '{}'`,
		"additions":                 `SELECT count(*) FROM case_additions`,
		"rooms":                     `SELECT count(*) FROM case_rooms`,
		"relayed events":            `SELECT count(*) FROM relayed_events`,
		"case room IDs":             `SELECT count(*) FROM cases WHERE room_id <> ''`,
	} {
		if n := d.count(q); n != 0 {
			t.Errorf("%d %s kept past the retention period", n, what)
		}
	}
	acts := d.actions()
	if len(acts) != 1 || acts[0].Action != bot.ActionLeave || acts[0].Payload.Room != "!case:localhost" || acts[0].Conversation != "!case:localhost" {
		t.Errorf("the bot must leave the case's room: %+v", acts)
	}
	// Purging again finds nothing more to do.
	if n, err := d.svc.Purge(context.Background()); err != nil || n != 0 || len(d.actions()) != 0 {
		t.Errorf("a second purge: %d cases, %v", n, err)
	}
}

// Before, a requester had no way to have what they told erased.
func TestForgetErasesWhatTheRequesterToldAndSaysWhatStays(t *testing.T) {
	d := newDesk(t, testenv.NewDB(t))
	d.reconfigure(func(c *bot.Config) { c.SharedRooms = false })
	a := d.volunteer("@a:localhost", "en", "!on")
	ref := d.ircCase(a)
	expect(t, d.inRoom("@a:localhost", "!case:localhost", "!note "+planted.note), "Noted")
	// While the case is open, nothing is erased.
	expect(t, d.carol("!forget"), "still open", ref, "!cancel")
	if n := d.count(`SELECT count(*) FROM cases WHERE description <> ''`); n != 1 {
		t.Fatal("!forget erased an open case")
	}
	expect(t, d.carol("!cancel"), "withdrawn")
	d.actions()
	// She is away when something more is queued for her.
	if _, err := d.st.DB.Exec(`INSERT INTO outbox (platform, conversation, plain, markdown, created_at) VALUES ('irc', 'carol', '', '', 0)`); err != nil {
		t.Fatal(err)
	}
	events := d.count(`SELECT count(*) FROM case_events`)

	// Handled without taking her messages out, to see which stay.
	if err := d.svc.Handle(context.Background(), bot.Inbound{Platform: bot.IRC, EventID: "irc-forget", Sender: "carol",
		Conversation: "carol", Text: "!forget"}); err != nil {
		t.Fatal(err)
	}
	toHer := d.pending(bot.IRC, "carol")
	if len(toHer) != 1 {
		t.Errorf("%d messages wait for her after !forget; want its answer only: %+v", len(toHer), toHer)
	}
	got := strings.Join(d.drain("carol"), "\n")
	for _, want := range []string{"erased what you told us", "What I keep, and why", "limits against misuse", "90 days"} {
		if !strings.Contains(got, want) {
			t.Errorf("the answer to !forget lacks %q:\n%s", want, got)
		}
	}
	for what, q := range map[string]string{
		"story or names":         `SELECT count(*) FROM cases WHERE description <> '' OR parties <> '{}' OR party_keys <> '{}'`,
		"safety answers":         `SELECT count(*) FROM cases WHERE q_harm IS NOT NULL`,
		"intake answers":         `SELECT count(*) FROM intakes WHERE description <> '' OR parties IS NOT NULL OR q_harm IS NOT NULL`,
		"additions":              `SELECT count(*) FROM case_additions`,
		"her likely wiki name":   `SELECT count(*) FROM people WHERE external_id = 'carol' AND (known_name <> '' OR known_key <> '')`,
		"rooms of her case":      `SELECT count(*) FROM case_rooms`,
		"emptiness not recorded": `SELECT count(*) FROM cases WHERE purged_at = 0`,
	} {
		if n := d.count(q); n != 0 {
			t.Errorf("!forget kept %d rows of %s", n, what)
		}
	}
	// What others need stays: the log (with a line saying it happened), the helper's note.
	if n := d.count(`SELECT count(*) FROM case_events`); n != events+1 {
		t.Errorf("the audit log has %d events, want the %d before and one for !forget", n, events)
	}
	if n := d.count(`SELECT count(*) FROM case_notes WHERE text <> ''`); n != 1 {
		t.Error("the helper's note was erased")
	}
	if acts := d.actions(); len(acts) != 1 || acts[0].Action != bot.ActionLeave || acts[0].Payload.Room != "!case:localhost" {
		t.Errorf("the bot must leave her case's room: %+v", acts)
	}
	expect(t, d.send(staff, staffRoom, "!audit "+ref), "case_withdrawn")
	expect(t, d.send(staff, staffRoom, "!audit irc:carol"), "forgotten")

	// An intake under way ends with !forget, and is erased.
	d.carol("hello")
	d.carol("no")
	expect(t, d.carol("!forget"), "erased what you told us")
	if n := d.count(`SELECT count(*) FROM intakes WHERE status = 'open' OR q_harm IS NOT NULL`); n != 0 {
		t.Error("the intake under way was kept")
	}
	if n := d.count(`SELECT count(*) FROM timers WHERE kind = 'intake_expiry'`); n != 0 {
		t.Error("the intake's expiry timer was kept")
	}
}
