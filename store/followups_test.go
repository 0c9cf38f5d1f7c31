package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"switchboard/bot"
	"switchboard/internal/testenv"
)

// inRoom is someone writing in a (group) room.
func (d *desk) inRoom(sender, roomID, text string) []string {
	d.t.Helper()
	return d.deliver(bot.Inbound{Platform: bot.Matrix, EventID: fmt.Sprintf("$r%d", d.seq.Add(1)), Sender: sender,
		Conversation: roomID, Text: text, Group: true})
}

// roomFor records the room the bridge made for the one create_room action waiting,
// and returns it.
func (d *desk) roomFor(roomID string) {
	d.t.Helper()
	acts := d.actions()
	if len(acts) != 1 || acts[0].Action != bot.ActionCreateRoom {
		d.t.Fatalf("want one create_room action, got %+v", acts)
	}
	if err := d.svc.RoomCreated(context.Background(), acts[0].Payload.CaseID, roomID); err != nil {
		d.t.Fatal(err)
	}
}

func (d *desk) joins(who, roomID string) {
	d.t.Helper()
	in := bot.Inbound{Platform: bot.Matrix, EventID: fmt.Sprintf("$join%d", d.seq.Add(1)), Sender: who, Conversation: roomID}
	if err := d.svc.Joined(context.Background(), in); err != nil {
		d.t.Fatal(err)
	}
}

// Before the fix, a follow-up went to case_additions, which nothing read: the person
// was told it was added, and nobody ever saw it.
func TestFollowUpsReachTheVolunteer(t *testing.T) {
	d := newDesk(t, testenv.NewDB(t))
	ref := d.intake(alice, room, "none", "en")
	d.drain(room)
	expect(t, d.send(alice, room, "He has now written to my employer too"), "added that to your request "+ref)
	expect(t, d.send(alice, room, "!add and to my sister"), "added that to your request")
	expect(t, d.send(alice, room, "!status"), "waiting for a volunteer", "You have added 2 messages")

	a := d.volunteer("@a:localhost", "en", "!on")
	expect(t, d.send("@a:localhost", a, "!accept "+ref), "is yours")
	d.roomFor("!case:localhost")
	d.joins("@a:localhost", "!case:localhost")
	summary := strings.Join(d.drain("!case:localhost"), "\n")
	for _, want := range []string{"Someone keeps insulting me on talk pages", "He has now written to my employer too",
		"and to my sister", "What the requester added (2)", "Risk of harm or threats: no"} {
		if !strings.Contains(summary, want) {
			t.Errorf("the summary lacks %q:\n%s", want, summary)
		}
	}
	// Once the volunteer works the case, a direct message goes straight into the room.
	expect(t, d.send(alice, room, "Are you still there?"), "passed that on to your room")
	expect(t, d.drain("!case:localhost"), alice+" (direct message): Are you still there?")
	// Her words in the room are the conversation itself: nothing is added or answered.
	if r := d.inRoom(alice, "!case:localhost", "thank you"); len(r) != 0 {
		t.Errorf("the bot answered the conversation: %q", r)
	}
}

// Staff usually take a staff-route case before the intake ends; before the fix the
// answers given after that were never shown to them.
func TestStaffSeeAnswersGivenAfterTheyJoined(t *testing.T) {
	d := newDesk(t, testenv.NewDB(t))
	ref := d.staffCase(alice, room)
	expect(t, d.send(staff, staffRoom, "!ack "+ref), "Paging has stopped")
	d.roomFor("!staffcase:localhost")
	d.joins(staff, "!staffcase:localhost")
	summary := strings.Join(d.drain("!staffcase:localhost"), "\n")
	for _, want := range []string{"Risk of harm or threats: YES", "A minor involved: not answered", "still answering"} {
		if !strings.Contains(summary, want) {
			t.Errorf("the summary lacks %q:\n%s", want, summary)
		}
	}
	for _, a := range []string{"no", "no", "no", "My ex follows me home from the library"} {
		d.send(alice, room, a)
	}
	got := strings.Join(d.drain("!staffcase:localhost"), "\n")
	if !strings.Contains(got, "My ex follows me home from the library") || strings.Count(got, "The requester answered") != 4 {
		t.Fatalf("the answers given after staff joined did not reach the room:\n%s", got)
	}
}

// An answer the intake cannot read used to be dropped: re-asked, and gone.
func TestUnclearAnswersAreKept(t *testing.T) {
	d := newDesk(t, testenv.NewDB(t))
	d.send(alice, room, "hello")
	expect(t, d.send(alice, room, "my manager at work keeps calling me about it"), "1 of 4")
	ref := d.intake(alice, room, "none", "en") // the rest of the answers
	a := d.volunteer("@a:localhost", "en", "!on")
	expect(t, d.send("@a:localhost", a, "!accept "+ref), "is yours")
	d.roomFor("!case:localhost")
	d.joins("@a:localhost", "!case:localhost")
	expect(t, d.drain("!case:localhost"), "my manager at work keeps calling me about it")
}

// After !escalate the old room is not the case's any more; a Matrix requester writing
// there used to be ignored.
func TestRequesterInTheRoomACaseLeft(t *testing.T) {
	d := newDesk(t, testenv.NewDB(t))
	a := d.volunteer("@a:localhost", "en", "!on")
	ref := d.intake(alice, room, "none", "en")
	expect(t, d.send("@a:localhost", a, "!accept "+ref), "is yours")
	d.roomFor("!case:localhost")
	d.joins("@a:localhost", "!case:localhost")
	expect(t, d.inRoom("@a:localhost", "!case:localhost", "!escalate"), "passed to staff")
	d.actions()
	expect(t, d.inRoom(alice, "!case:localhost", "Hello? Where did everyone go?"), "kept your message")
	expect(t, d.send(staff, staffRoom, "!ack "+ref), "Paging has stopped")
	d.roomFor("!staffcase:localhost")
	d.joins(staff, "!staffcase:localhost")
	expect(t, d.drain("!staffcase:localhost"), "Hello? Where did everyone go?")
	// Now the case is worked in the new room: her words in the old one go there.
	expect(t, d.inRoom(alice, "!case:localhost", "I am in the old room"), "handled in another room")
	expect(t, d.drain("!staffcase:localhost"), "I am in the old room")
	// Staff in the old room cannot act on the case from there.
	expect(t, d.inRoom(staff, "!case:localhost", "!close resolved"), "not something you can do")
}
