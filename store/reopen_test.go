package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"switchboard/bot"
	"switchboard/internal/testenv"
)

// closeInRoom takes an accepted everyday case through its room to a close.
func (d *desk) closeInRoom(ref, volunteer, dm, roomID string) {
	d.t.Helper()
	expect(d.t, d.send(volunteer, dm, "!accept "+ref), "is yours")
	acts := d.actions()
	if len(acts) != 1 || acts[0].Action != bot.ActionCreateRoom {
		d.t.Fatalf("actions after accept: %+v", acts)
	}
	ctx := context.Background()
	if err := d.svc.RoomCreated(ctx, acts[0].Payload.CaseID, roomID); err != nil {
		d.t.Fatal(err)
	}
	if err := d.svc.Joined(ctx, bot.Inbound{Platform: bot.Matrix, EventID: fmt.Sprintf("$j%d", d.seq.Add(1)), Sender: volunteer, Conversation: roomID}); err != nil {
		d.t.Fatal(err)
	}
	r := d.deliver(bot.Inbound{Platform: bot.Matrix, EventID: fmt.Sprintf("$c%d", d.seq.Add(1)), Sender: volunteer,
		Conversation: roomID, Text: "!close resolved", Group: true})
	expect(d.t, r, "is closed")
}

// !reopen puts a closed everyday case back in the queue: it is offered again, gets a
// room of its own (nobody who worked it before reads on), and the requester is told.
func TestReopenEverydayCase(t *testing.T) {
	d := newDesk(t, testenv.NewDB(t))
	a := d.volunteer("@a:localhost", "en", "!on")
	ref := d.intake(alice, room, "none", "en")
	d.closeInRoom(ref, "@a:localhost", a, "!case1:localhost")
	d.drain(room)
	d.drain(a)

	// Refusals first: none of them changes the case.
	expect(t, d.send(staff, staffRoom, "!reopen"), "Write !reopen with the reference")
	expect(t, d.send(staff, staffRoom, "!reopen not-a-ref!"), "Write !reopen with the reference")
	expect(t, d.send(staff, staffRoom, "!reopen SB-ZZZZZ"), "There is no request SB-ZZZZZ")
	if st, _ := d.caseState(ref); st != "closed" {
		t.Fatalf("state %s after refusals", st)
	}

	d.advance(time.Hour)
	expect(t, d.send(staff, staffRoom, "!reopen "+ref), ref+" is open again")
	st, vol := d.caseState(ref)
	if st != "offered" || vol != "@a:localhost" {
		t.Fatalf("after reopen: state %s, volunteer %q; want offered to the only volunteer on duty", st, vol)
	}
	var roomID, closeReason string
	var closedAt int64
	if err := d.st.DB.QueryRow(`SELECT room_id, close_reason, closed_at FROM cases WHERE ref = $1`, ref).Scan(&roomID, &closeReason, &closedAt); err != nil {
		t.Fatal(err)
	}
	if roomID != "" || closeReason != "" || closedAt != 0 {
		t.Errorf("the reopened case kept its old room or close: room %q, reason %q, closed_at %d", roomID, closeReason, closedAt)
	}
	expect(t, d.drain(room), ref+" has been reopened")
	expect(t, d.drain(a), "!accept")
	if n := d.count(`SELECT count(*) FROM case_events e JOIN cases c ON c.id = e.case_id
		WHERE c.ref = $1 AND e.kind = 'case_reopened' AND e.actor = $2`, ref, staff); n != 1 {
		t.Errorf("%d case_reopened events by staff, want 1", n)
	}
	// Still open: a second reopen is refused.
	expect(t, d.send(staff, staffRoom, "!reopen "+ref), "still open")
}

// A requester has at most one request open: a case whose requester has started
// another is refused, and so is one whose content retention erased.
func TestReopenRefusals(t *testing.T) {
	d := newDesk(t, testenv.NewDB(t))
	ref := d.intake(alice, room, "none", "en")
	expect(t, d.send(alice, room, "!cancel"), "withdrawn")
	d.send(alice, room, "hello again") // a new intake under way
	expect(t, d.send(staff, staffRoom, "!reopen "+ref), "already has a request open")
	expect(t, d.send(alice, room, "!cancel"), "withdrawn")
	d.advance(48 * time.Hour)
	if n, err := d.st.Purge(context.Background(), bot.PurgeBefore{Content: time.UnixMilli(d.clock.Load()).Add(-time.Hour)}); err != nil || n != 1 {
		t.Fatalf("purge: %d cases, %v", n, err)
	}
	expect(t, d.send(staff, staffRoom, "!reopen "+ref), "cannot be reopened: what it held was erased")
	if st, _ := d.caseState(ref); st != "withdrawn" {
		t.Fatalf("state %s after refusals", st)
	}
}

// A closed staff-route case goes back to staff: on-call is paged again.
func TestReopenStaffCase(t *testing.T) {
	d := newDesk(t, testenv.NewDB(t))
	d.reconfigure(func(c *bot.Config) { c.OnCall = []string{staff}; c.AckTimeout = 5 * time.Minute; c.MaxRounds = 2 })
	ref := d.staffCase(alice, room)
	d.pages()
	expect(t, d.send(staff, staffRoom, "!ack "+ref), "Paging has stopped")
	acts := d.actions()
	if len(acts) != 1 {
		t.Fatalf("actions after ack: %+v", acts)
	}
	if err := d.svc.RoomCreated(context.Background(), acts[0].Payload.CaseID, "!staffcase:localhost"); err != nil {
		t.Fatal(err)
	}
	expect(t, d.deliver(bot.Inbound{Platform: bot.Matrix, EventID: "$close", Sender: staff, Conversation: "!staffcase:localhost",
		Text: "!close referred", Group: true}), "is closed")
	d.pages()
	paged := d.count(`SELECT count(*) FROM case_events WHERE kind = 'paged'`)
	// The page is a mention in the staff room, where the answer goes too.
	expect(t, d.send(staff, staffRoom, "!reopen "+ref), "is open again", staff+": a staff-route request "+ref)
	if st, _ := d.caseState(ref); st != "staff" {
		t.Fatalf("state %s, want staff", st)
	}
	if n := d.count(`SELECT count(*) FROM case_events WHERE kind = 'paged'`); n != paged+1 {
		t.Fatalf("%d pages after reopen, want one more than %d", n, paged)
	}
	var staffID string
	if err := d.st.DB.Get(&staffID, `SELECT staff_id FROM cases WHERE ref = $1`, ref); err != nil || staffID != "" {
		t.Fatalf("staff_id %q (%v): the reopened case must wait for a new !ack", staffID, err)
	}
}
