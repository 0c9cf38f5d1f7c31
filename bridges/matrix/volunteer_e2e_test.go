package matrix_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"switchboard/config"
	"switchboard/internal/testenv"
)

// person is a scripted Matrix user with a DM to the bot.
type person struct {
	*requester
}

func newPerson(t *testing.T, b *testBot, name string) person { return person{newRequester(t, b, name)} }

// staffRoomFor makes a staff member and the staff room, and configures the bot for it.
func staffRoomFor(t *testing.T, b *testBot) (*testenv.Client, id.RoomID) {
	t.Helper()
	staff := testenv.NewMatrixUser(t, "staff")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	room, err := staff.CreateRoom(ctx, "Staff", b.ID)
	if err != nil {
		t.Fatal(err)
	}
	b.cfg.Service.StaffRoom = room.String()
	b.cfg.Service.Staff = []string{staff.UserID().String()}
	return staff, room
}

func (p person) cmd(text, want string) testenv.Msg {
	p.t.Helper()
	return p.answer(text, want)
}

// enrol puts p on the roster with a wiki name, as staff type it in the staff room,
// and waits for each answer.
func enrol(t *testing.T, staff *testenv.Client, staffRoom id.RoomID, p person) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for _, c := range testenv.Enrol(p.c.UserID().String()) {
		if _, err := staff.Send(ctx, staffRoom, c); err != nil {
			t.Fatal(err)
		}
		staff.Expect(t, staffRoom, p.c.UserID().String())
	}
}

// onDuty enrols p, who then helps in English and goes on duty.
func onDuty(t *testing.T, staff *testenv.Client, staffRoom id.RoomID, p person) {
	t.Helper()
	enrol(t, staff, staffRoom, p)
	p.cmd("!languages en", "You help in")
	p.cmd("!on", "on duty")
}

// End to end with several volunteers: the offer goes to the right one (not to one
// with a declared conflict, not to one off duty, not to an applicant), the case room is
// encrypted and both sides read each other, close asks for feedback.
func TestVolunteerCaseEndToEnd(t *testing.T) {
	t.Parallel()
	b := newBot(t, testenv.Homeserver(t), testenv.NewDB(t))
	b.cfg.Service.CaseRooms = "shared" // the requester is in the case room
	staff, staffRoom := staffRoomFor(t, b)
	b.start()
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	staffSay := func(text, want string) {
		t.Helper()
		if _, err := staff.Send(ctx, staffRoom, text); err != nil {
			t.Fatal(err)
		}
		staff.Expect(t, staffRoom, want)
	}
	conflicted := newPerson(t, b, "vconflict")
	offduty := newPerson(t, b, "voff")
	right := newPerson(t, b, "vright")
	applicant := newPerson(t, b, "vapplicant")
	for _, v := range []person{conflicted, offduty, right} {
		uid := v.c.UserID().String()
		staffSay(testenv.Enrol(uid)[0], "on the roster")
		staffSay("!volunteer confirm "+uid, "now trainee")
		staffSay("!volunteer promote "+uid, "now active")
		v.cmd("!languages en", "You help in: en")
	}
	staffSay("!volunteer add "+applicant.c.UserID().String(), "on the roster")
	applicant.cmd("!on", "do not know the command !on")
	conflicted.cmd("!conflict add Troll_account", "involve Troll account")
	conflicted.cmd("!on", "on duty until")
	right.cmd("!on for 2h", "on duty until")

	alice := newRequester(t, b, "alice")
	alice.intake("Troll_account follows me around and mocks my edits", "Troll_account")
	opened := alice.answer("yes", "Your request is open")
	ref := opened.Body[strings.Index(opened.Body, "SB-") : strings.Index(opened.Body, "SB-")+8]

	offer := right.expect("New request " + ref)
	if strings.Contains(offer.Body, "mocks") || strings.Contains(offer.Body, alice.c.UserID().String()) {
		t.Errorf("the offer leaks the case: %q", offer.Body)
	}
	// An offer to the conflicted volunteer would have been sent with the one above,
	// so it would come before the answer to a command sent now.
	conflicted.say("!me")
	conflicted.c.ExpectNext(t, conflicted.room, "Declared conflicts")
	right.cmd("!accept "+ref, "is yours")
	alice.expect("a volunteer has taken your request")

	// Both are invited to the case room; the summary comes once the volunteer is in.
	invR, err := right.c.NextInvite(ctx)
	if err != nil {
		t.Fatal(err)
	}
	invA, err := alice.c.NextInvite(ctx)
	if err != nil || invA.Room != invR.Room {
		t.Fatalf("requester invite %v %v", invA, err)
	}
	caseRoom := invR.Room
	summaryR := right.c.Expect(t, caseRoom, "mocks my edits")
	summaryA := alice.c.Expect(t, caseRoom, "mocks my edits")
	if !summaryR.Encrypted || !summaryA.Encrypted {
		t.Fatal("the summary was not encrypted")
	}
	if _, err := alice.c.Send(ctx, caseRoom, "Thank you for taking this"); err != nil {
		t.Fatal(err)
	}
	if m := right.c.Expect(t, caseRoom, "Thank you for taking this"); !m.Encrypted {
		t.Error("the requester's message reached the volunteer unencrypted")
	}
	if _, err := right.c.Send(ctx, caseRoom, "Happy to help. Tell me more."); err != nil {
		t.Fatal(err)
	}
	alice.c.Expect(t, caseRoom, "Happy to help")
	if _, err := right.c.Send(ctx, caseRoom, "!close resolved spoke with the other editor"); err != nil {
		t.Fatal(err)
	}
	right.c.Expect(t, caseRoom, "is closed")
	alice.expect("How did it go")
	alice.answer("4", "Thank you for your feedback")
	alice.answer("!feedback it helped", "kept your comment")
	if n := b.count(`SELECT count(*) FROM cases WHERE ref = $1 AND state = 'closed' AND feedback_rating = 4
		AND first_reply_at > 0`, ref); n != 1 {
		t.Error("close, first reply or feedback not stored")
	}
	// The room is invite-only, encrypted, and shows history only from one's invitation.
	var hv event.HistoryVisibilityEventContent
	var jr event.JoinRulesEventContent
	var enc event.EncryptionEventContent
	cli := alice.c.Mautrix()
	if cli.StateEvent(ctx, caseRoom, event.StateHistoryVisibility, "", &hv) != nil || hv.HistoryVisibility != event.HistoryVisibilityInvited ||
		cli.StateEvent(ctx, caseRoom, event.StateJoinRules, "", &jr) != nil || jr.JoinRule != event.JoinRuleInvite ||
		cli.StateEvent(ctx, caseRoom, event.StateEncryption, "", &enc) != nil || enc.Algorithm != id.AlgorithmMegolmV1 {
		t.Errorf("case room settings: %+v %+v %+v", hv, jr, enc)
	}
	if logs := b.logs.String(); strings.Contains(logs, "mocks my edits") {
		t.Error("the bot's log contains case content")
	}
}

// A restart while an offer is pending loses nothing: the offer still expires on time
// and goes to the next volunteer.
func TestOfferSurvivesRestart(t *testing.T) {
	t.Parallel()
	b := newBot(t, testenv.Homeserver(t), testenv.NewDB(t))
	staff, staffRoom := staffRoomFor(t, b)
	b.cfg.Service.Routing.OfferExpiry = config.Duration(8 * time.Second) // below the minimum, for the test
	b.start()
	first := newPerson(t, b, "vfirst")
	second := newPerson(t, b, "vsecond")
	for _, v := range []person{first, second} {
		enrol(t, staff, staffRoom, v)
		v.cmd("!languages en", "You help in")
	}
	first.cmd("!on", "on duty")
	alice := newRequester(t, b, "alice")
	alice.intake("Someone keeps reverting me", "none")
	alice.answer("yes", "Your request is open")
	first.expect("New request")
	offeredAt := time.Now()
	b.stop()
	second.say("!on") // written while the bot is down
	b.start()
	second.expect("on duty")
	second.c.ExpectTimeout = 60 * time.Second
	second.expect("New request")
	if waited := time.Since(offeredAt); waited < 7*time.Second || waited > 40*time.Second {
		t.Errorf("the offer moved on after %s; want about 8 s", waited)
	}
	first.expect("has expired")
}

// !transfer on Matrix: the volunteer is removed from the room, the next one is invited
// to the same room and gets the summary; !escalate then removes that one too.
func TestTransferAndEscalateInRoom(t *testing.T) {
	t.Parallel()
	b := newBot(t, testenv.Homeserver(t), testenv.NewDB(t))
	b.cfg.Service.CaseRooms = "shared" // the requester is in the case room
	staff, staffRoom := staffRoomFor(t, b)
	b.start()
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	first, second := newPerson(t, b, "vone"), newPerson(t, b, "vtwo")
	for _, v := range []person{first, second} {
		enrol(t, staff, staffRoom, v)
		v.cmd("!languages en", "You help in")
	}
	first.cmd("!on", "on duty")
	alice := newRequester(t, b, "alice")
	alice.intake("Someone keeps reverting me with rude summaries", "none")
	alice.answer("yes", "is open")
	first.expect("New request")
	first.cmd("!accept", "is yours")
	inv, err := first.c.NextInvite(ctx)
	if err != nil {
		t.Fatal(err)
	}
	caseRoom := inv.Room
	first.c.Expect(t, caseRoom, "rude summaries")
	second.cmd("!on", "on duty")
	if _, err := first.c.Send(ctx, caseRoom, "!transfer going on holiday"); err != nil {
		t.Fatal(err)
	}
	// The requester, who stays, reads the answers here: the volunteer is removed right
	// after them, and under load Dendrite 0.13.8's /sync can then leave the room's last
	// events, answer and removal alike, out of that volunteer's stream for good.
	alice.c.Expect(t, caseRoom, "goes back to the queue")
	if err := alice.c.WaitMembership(ctx, caseRoom, first.c.UserID(), event.MembershipLeave); err != nil {
		t.Fatal(err)
	}
	second.expect("New request")
	second.cmd("!accept", "is yours")
	inv2, err := second.c.NextInvite(ctx)
	if err != nil || inv2.Room != caseRoom {
		t.Fatalf("the next volunteer must join the same room: %v %v", inv2, err)
	}
	second.c.Expect(t, caseRoom, "rude summaries")
	if _, err := second.c.Send(ctx, caseRoom, "!escalate"); err != nil {
		t.Fatal(err)
	}
	alice.c.Expect(t, caseRoom, "passed to staff")
	if err := alice.c.WaitMembership(ctx, caseRoom, second.c.UserID(), event.MembershipLeave); err != nil {
		t.Fatal(err)
	}
	staff.Expect(t, staffRoom, "staff-route request")
	alice.expect("passed to Wikimedia Foundation staff")
	second.cmd("!accept", "no open offer")
}
