package store_test

import (
	"strings"
	"testing"
	"time"

	"switchboard/bot"
	"switchboard/internal/testenv"
)

// trainee puts someone through vetting as a trainee with a mentor, on duty.
func (d *desk) trainee(id, mentor string) string {
	d.t.Helper()
	dm := "!dm-" + strings.TrimPrefix(strings.Split(id, ":")[0], "@") + ":localhost"
	expect(d.t, d.send(staff, staffRoom, "!volunteer add "+id+" "+strings.Trim(strings.Split(id, ":")[0], "@")), "on the roster")
	expect(d.t, d.send(staff, staffRoom, "!volunteer confirm "+id), "now trainee")
	expect(d.t, d.send(staff, staffRoom, "!volunteer mentor "+id+" "+mentor), "mentor")
	expect(d.t, d.send(id, dm, "!languages en"), "You help in")
	expect(d.t, d.send(id, dm, "!on"), "on duty")
	return dm
}

// membersAction is the one action waiting, which must make the room's members exactly
// users (and the bot).
func (d *desk) membersAction(roomID string, users ...string) {
	d.t.Helper()
	acts := d.actions()
	if len(acts) != 1 || acts[0].Action != bot.ActionMembers || acts[0].Payload.Room != roomID ||
		strings.Join(acts[0].Payload.Users, ",") != strings.Join(users, ",") {
		d.t.Fatalf("want the members of %s to be exactly %v, got actions %+v", roomID, users, acts)
	}
}

// Before the fix, !transfer zeroed the mentor before removing the workers: the mentor
// (or the trainee, when the mentor ran it) stayed, and read the next volunteer's summary.
func TestTransferAndEscalateEmptyTheRoomOfWorkers(t *testing.T) {
	d := newDesk(t, testenv.NewDB(t))
	d.volunteer("@mentor:localhost", "en")
	tr := d.trainee("@trainee:localhost", "@mentor:localhost")
	ref := d.intake(alice, room, "none", "en")
	expect(t, d.send("@trainee:localhost", tr, "!accept "+ref), "is yours")
	acts := d.actions()
	if len(acts) != 1 || strings.Join(acts[0].Payload.Users, ",") != "@trainee:localhost,@mentor:localhost,"+alice {
		t.Fatalf("the room must be made for trainee, mentor and requester: %+v", acts)
	}
	if err := d.svc.RoomCreated(t.Context(), acts[0].Payload.CaseID, "!case:localhost"); err != nil {
		t.Fatal(err)
	}
	d.joins("@trainee:localhost", "!case:localhost")
	expect(t, d.inRoom("@mentor:localhost", "!case:localhost", "!transfer"), "goes back to the queue")
	d.membersAction("!case:localhost", alice)

	// Accepted again by the same pair (a reopened round), then escalated by the trainee.
	d2 := "!dm-bob:localhost"
	ref2 := d.intake("@bob:localhost", d2, "none", "en")
	expect(t, d.send("@trainee:localhost", tr, "!accept "+ref2), "is yours")
	acts = d.actions()
	if err := d.svc.RoomCreated(t.Context(), acts[0].Payload.CaseID, "!case2:localhost"); err != nil {
		t.Fatal(err)
	}
	d.joins("@trainee:localhost", "!case2:localhost")
	expect(t, d.inRoom("@trainee:localhost", "!case2:localhost", "!escalate"), "passed to staff")
	d.membersAction("!case2:localhost", "@bob:localhost")
}

// Case rooms take nobody the case does not name: whoever joins without a place there is
// removed at once, and staff learn which case (nothing else).
func TestStrangerInACaseRoomIsRemoved(t *testing.T) {
	d := newDesk(t, testenv.NewDB(t))
	a := d.volunteer("@a:localhost", "en", "!on")
	ref := d.intake(alice, room, "none", "en")
	expect(t, d.send("@a:localhost", a, "!accept "+ref), "is yours")
	d.roomFor("!case:localhost")
	d.joins(alice, "!case:localhost")
	d.joins("@a:localhost", "!case:localhost")
	if acts := d.actions(); len(acts) != 0 {
		t.Fatalf("the people of the case were treated as strangers: %+v", acts)
	}
	d.drain(staffRoom)
	d.joins("@mallory:localhost", "!case:localhost")
	d.membersAction("!case:localhost", alice, "@a:localhost")
	notice := strings.Join(d.drain(staffRoom), "\n")
	if !strings.Contains(notice, ref) || strings.Contains(notice, "mallory") || strings.Contains(notice, "insult") {
		t.Fatalf("staff notice: %q", notice)
	}
	if n := d.count(`SELECT count(*) FROM case_events WHERE kind = 'intruder_removed' AND subject = '@mallory:localhost'`); n != 1 {
		t.Fatalf("%d audit rows for the stranger", n)
	}
}

// Before the fix, suspending a volunteer took nothing from them: they kept their rooms,
// could still act in them, and kept their offers.
func TestSuspendTakesCasesOffersAndRooms(t *testing.T) {
	d := newDesk(t, testenv.NewDB(t))
	a := d.volunteer("@a:localhost", "en", "!on", "!limit 5")
	ref := d.intake(alice, room, "none", "en")
	expect(t, d.send("@a:localhost", a, "!accept "+ref), "is yours")
	d.roomFor("!case:localhost")
	d.joins("@a:localhost", "!case:localhost")
	ref2 := d.intake("@bob:localhost", "!dm-bob:localhost", "none", "en")
	if st, who := d.caseState(ref2); st != "offered" || who != "@a:localhost" {
		t.Fatalf("second case %s to %q", st, who)
	}
	b := d.volunteer("@b:localhost", "en", "!on", "!limit 5")
	d.drain(room)
	expect(t, d.send(staff, staffRoom, "!volunteer suspend @a:localhost harassing requesters"), "now suspended")
	d.membersAction("!case:localhost", alice)
	for _, r := range []string{ref, ref2} {
		if st, who := d.caseState(r); st != "offered" || who != "@b:localhost" {
			t.Errorf("%s is %s with %q after the suspension; want offered to @b", r, st, who)
		}
	}
	expect(t, d.drain(room), "moving to another volunteer")
	expect(t, d.drain(b), "New request "+ref, "New request "+ref2)
	expect(t, d.inRoom("@a:localhost", "!case:localhost", "!note still here"), "not something you can do")
	expect(t, d.send("@a:localhost", a, "!accept "+ref2), "do not know the command")
	if n := d.count(`SELECT count(*) FROM case_events WHERE kind IN ('unassigned', 'offer_withdrawn')`); n != 2 {
		t.Errorf("%d audit rows for what was taken from the volunteer, want 2", n)
	}
}

// Before the fix, any message starting with 1 to 5 within a week of a close was a
// rating: "5 minutes ago he threatened to kill me" was thanked for, and no safety
// question was asked.
func TestFeedbackIsABareRating(t *testing.T) {
	d := newDesk(t, testenv.NewDB(t))
	a := d.volunteer("@a:localhost", "en", "!on")
	ref := d.intake(alice, room, "none", "en")
	d.closeInRoom(ref, "@a:localhost", a, "!case:localhost")
	d.drain(room)
	expect(t, d.send(alice, room, "5 minutes ago he threatened to kill me"), "1 of 4")
	if n := d.count(`SELECT count(*) FROM cases WHERE feedback_rating IS NOT NULL`); n != 0 {
		t.Fatalf("a new request was taken as a rating")
	}
	expect(t, d.send(alice, room, "!cancel"), "withdrawn")
	expect(t, d.send(alice, room, "4"), "Thank you for your feedback")
	expect(t, d.send(alice, room, "!feedback kind and quick"), "kept your comment on "+ref)
	var rating int
	var comment string
	if err := d.st.DB.QueryRow(`SELECT feedback_rating, feedback_comment FROM cases WHERE ref = $1`, ref).Scan(&rating, &comment); err != nil ||
		rating != 4 || d.opened("cases.feedback_comment", comment) != "kind and quick" {
		t.Fatalf("feedback %d %q %v", rating, comment, err)
	}
}

// Before the fix, what a person in the busy line wrote was answered "you are in line"
// and dropped, and nothing let someone in danger skip the line.
func TestBusyLineKeepsWordsAndLetsUrgentThrough(t *testing.T) {
	d := newDesk(t, testenv.NewDB(t))
	d.reconfigure(func(c *bot.Config) { c.IntakeRate, c.IntakeBurst = 1, 1 })
	expect(t, d.send("@first:localhost", "!dm-first:localhost", "hello"), "1 of 4")
	expect(t, d.send(alice, room, "hello"), "very busy", "write urgent")
	expect(t, d.send(alice, room, "He knows where I live and says he will come tonight"), "You are in line", "kept what you wrote")
	expect(t, d.send(alice, room, "!status"), "You are in line")
	expect(t, d.send(alice, room, "urgent"), "1 of 4")
	var desc string
	if err := d.st.DB.Get(&desc, `SELECT i.description FROM intakes i JOIN people p ON p.id = i.person_id WHERE p.external_id = $1`, alice); err != nil {
		t.Fatal(err)
	}
	if desc = d.opened("intakes.description", desc); !strings.Contains(desc, "He knows where I live") {
		t.Fatalf("what she wrote while waiting is not in her request: %q", desc)
	}
	if n := d.count(`SELECT count(*) FROM intake_waitlist`); n != 0 {
		t.Fatalf("%d still in the line", n)
	}
	expect(t, d.send(alice, room, "yes"), "emergency")
}

// Before the fix, !transfer put the case back in the queue without its timers: nobody
// was alerted when it waited too long, and the requester heard nothing.
func TestTransferRearmsTheQueueTimers(t *testing.T) {
	d := newDesk(t, testenv.NewDB(t))
	a := d.volunteer("@a:localhost", "en", "!on")
	ref := d.intake(alice, room, "none", "en")
	expect(t, d.send("@a:localhost", a, "!accept "+ref), "is yours")
	d.roomFor("!case:localhost")
	d.joins("@a:localhost", "!case:localhost")
	if n := d.count(`SELECT count(*) FROM timers WHERE kind IN ('queue_alert', 'reassure')`); n != 0 {
		t.Fatalf("%d queue timers while the case is worked", n)
	}
	expect(t, d.inRoom("@a:localhost", "!case:localhost", "!transfer"), "goes back to the queue")
	if n := d.count(`SELECT count(*) FROM timers WHERE kind IN ('queue_alert', 'reassure')`); n != 2 {
		t.Fatalf("%d queue timers after the transfer, want the alert and the reassurance", n)
	}
	d.drain("!coord:localhost")
	d.advance(31 * time.Minute)
	if _, err := d.svc.FireDueTimers(t.Context()); err != nil {
		t.Fatal(err)
	}
	expect(t, d.drain("!coord:localhost"), ref)
}

// What a volunteer hears about a case they were offered must not change when the case
// goes to the staff route: before the fix "someone else has taken it" became "no open
// offer", which told them where it went.
func TestAcceptAnswerDoesNotTellTheRoute(t *testing.T) {
	d := newDesk(t, testenv.NewDB(t))
	a := d.volunteer("@a:localhost", "en", "!on")
	b := d.volunteer("@b:localhost", "en")
	ref := d.intake(alice, room, "none", "en")
	if _, who := d.caseState(ref); who != "@a:localhost" {
		t.Fatalf("offered to %q", who)
	}
	expect(t, d.send("@a:localhost", a, "!decline "+ref), "goes to someone else")
	expect(t, d.send("@b:localhost", b, "!on"), "on duty")
	expect(t, d.send("@b:localhost", b, "!accept "+ref), "is yours")
	d.roomFor("!case:localhost")
	d.joins("@b:localhost", "!case:localhost")
	before := d.send("@a:localhost", a, "!accept "+ref)
	expect(t, d.inRoom("@b:localhost", "!case:localhost", "!escalate"), "passed to staff")
	after := d.send("@a:localhost", a, "!accept "+ref)
	if strings.Join(before, "\n") != strings.Join(after, "\n") {
		t.Fatalf("the answer changed when the case went to staff:\n before %q\n after  %q", before, after)
	}
}
