package matrix_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"switchboard/internal/testenv"
)

// waitGone waits until user is no longer a member of room, as c's homeserver says.
func waitGone(t *testing.T, c *testenv.Client, room id.RoomID, user id.UserID) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		members, err := c.Mautrix().JoinedMembers(ctx, room)
		if err != nil {
			t.Fatal(err)
		}
		if _, in := members.Joined[user]; !in {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s is still in %s", user, room)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// End to end on Dendrite: what a requester writes by direct message after her case
// opened reaches the volunteer in the case room, and after an escalation the staff
// member in the staff case room, decrypted on the other side; nobody but the bot may
// invite anyone into a case room; and whoever stops working a case leaves its room.
func TestFollowUpsAndMembershipEndToEnd(t *testing.T) {
	t.Parallel()
	b := newBot(t, testenv.Homeserver(t), testenv.NewDB(t))
	b.cfg.Service.CaseRooms = "shared" // the requester is in the case room
	staff, staffRoom := staffRoomFor(t, b)
	b.start()
	ctx, cancel := context.WithTimeout(context.Background(), 180*time.Second)
	defer cancel()
	vol := newPerson(t, b, "vfollow")
	onDuty(t, staff, staffRoom, vol)

	alice := newRequester(t, b, "alice")
	alice.intake("An editor keeps undoing my work with rude summaries", "none")
	opened := alice.answer("yes", "Your request is open")
	ref := opened.Body[strings.Index(opened.Body, "SB-") : strings.Index(opened.Body, "SB-")+8]
	// Written before anyone took the case: kept, and in the summary.
	alice.answer("They have now emailed my employer", "added that to your request")
	vol.cmd("!accept "+ref, "is yours")
	invV, err := vol.c.NextInvite(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := alice.c.NextInvite(ctx); err != nil {
		t.Fatal(err)
	}
	caseRoom := invV.Room
	if m := vol.c.Expect(t, caseRoom, "They have now emailed my employer"); !m.Encrypted {
		t.Fatal("the summary was not encrypted")
	}

	// Once the volunteer works the case, a direct message goes into the room, decrypted there.
	alice.answer("One more thing: it started last spring", "passed that on to your room")
	if m := vol.c.Expect(t, caseRoom, "One more thing: it started last spring"); !m.Encrypted {
		t.Fatal("the follow-up reached the volunteer unencrypted")
	}

	// Only the bot may invite: a member bringing in someone else is refused by the homeserver.
	outsider := testenv.NewMatrixUser(t, "outsider")
	_, err = alice.c.Mautrix().InviteUser(ctx, caseRoom, &mautrix.ReqInviteUser{UserID: outsider.UserID()})
	if err == nil || !strings.Contains(err.Error(), "M_FORBIDDEN") {
		t.Fatalf("a member could invite someone into the case room: %v", err)
	}

	// Escalated: the volunteer leaves the room; staff take it in a room of their own.
	if _, err := vol.c.Send(ctx, caseRoom, "!escalate"); err != nil {
		t.Fatal(err)
	}
	vol.c.Expect(t, caseRoom, "passed to staff")
	waitGone(t, alice.c, caseRoom, vol.c.UserID())
	staff.Expect(t, staffRoom, ref)
	if _, err := staff.Send(ctx, staffRoom, "!ack "+ref); err != nil {
		t.Fatal(err)
	}
	invS, err := staff.NextInvite(ctx)
	if err != nil {
		t.Fatal(err)
	}
	staffCaseRoom := invS.Room
	if staffCaseRoom == caseRoom {
		t.Fatal("staff were put in the volunteer's room")
	}
	// The summary staff get holds what she added before the escalation.
	if m := staff.Expect(t, staffCaseRoom, "They have now emailed my employer"); !strings.Contains(m.Body, "Welcome to the private room for "+ref) {
		t.Fatalf("not the summary: %q", m.Body)
	}
	alice.expect("passed to Wikimedia Foundation staff")
	if _, err := alice.c.NextInvite(ctx); err != nil {
		t.Fatal(err)
	}
	alice.answer("Are you there? He wrote again", "passed that on to your room")
	if m := staff.Expect(t, staffCaseRoom, "Are you there? He wrote again"); !m.Encrypted {
		t.Fatal("the follow-up reached staff unencrypted")
	}
	// And in the room the case left, she is told where to write, and heard.
	if _, err := alice.c.Send(ctx, caseRoom, "Hello? Is anyone still here?"); err != nil {
		t.Fatal(err)
	}
	alice.c.Expect(t, caseRoom, "handled in another room")
	staff.Expect(t, staffCaseRoom, "Hello? Is anyone still here?")
}
