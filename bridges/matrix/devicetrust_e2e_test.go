package matrix_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"switchboard/internal/testenv"
)

// unreadable waits until the client gave up decrypting event evt (its keys were
// withheld), and fails if it read it instead.
func unreadable(t *testing.T, c *testenv.Client, room id.RoomID, evt id.EventID) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for !slices.Contains(c.Undecryptable(), evt) {
		if slices.ContainsFunc(c.Messages(room), func(m testenv.Msg) bool { return m.ID == evt }) {
			t.Fatalf("%s (%s) read %s, whose keys should have been withheld", c.UserID(), c.DeviceID(), evt)
		}
		if ctx.Err() != nil {
			t.Fatalf("%s (%s) neither read nor gave up on %s", c.UserID(), c.DeviceID(), evt)
		}
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond): // polls a condition; nothing hangs on it
		}
	}
}

// synced waits until a new device has the room's state (the bot a member): before,
// it would share its message's keys with nobody.
func synced(t *testing.T, c *testenv.Client, room id.RoomID, bot id.UserID) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := c.WaitEvent(ctx, room, func(e *event.Event) bool {
		return e.Type == event.StateMember && e.GetStateKey() == bot.String()
	}); err != nil {
		t.Fatal(err)
	}
}

// A phished password and a new, unsigned device get a staff member or a volunteer
// nothing: no room keys (the bot's replies stay unreadable on that device), and no
// command is taken from it. A changed identity is refused until staff !trust it.
func TestUnverifiedDevicesOnDendrite(t *testing.T) {
	t.Parallel()
	b := newBot(t, testenv.Homeserver(t), testenv.NewDB(t))
	staff, staffRoom := staffRoomFor(t, b)
	b.start()
	ctx, cancel := context.WithTimeout(context.Background(), 240*time.Second)
	defer cancel()
	staffSay := func(c *testenv.Client, text, want string) testenv.Msg {
		t.Helper()
		if _, err := c.Send(ctx, staffRoom, text); err != nil {
			t.Fatal(err)
		}
		return staff.Expect(t, staffRoom, want)
	}
	vol := newPerson(t, b, "vtrust")
	volID := vol.c.UserID().String()

	// The staff member's second device, never verified.
	phishedStaff := staff.SecondDevice(t)
	synced(t, phishedStaff, staffRoom, b.ID)
	refused := staffSay(phishedStaff, testenv.Enrol(volID)[0], "only take this from a verified session")
	unreadable(t, phishedStaff, staffRoom, refused.ID)
	for _, c := range testenv.Enrol(volID) {
		staffSay(staff, c, volID)
	}
	vol.cmd("!languages en", "You help in")
	vol.cmd("!on", "on duty")

	// The volunteer's second device: it cannot read the offer, nor answer it.
	phishedVol := vol.c.SecondDevice(t)
	synced(t, phishedVol, vol.room, b.ID)
	alice := newRequester(t, b, "alice")
	alice.intake("Someone mocks my edits", "none")
	alice.answer("yes", "Your request is open")
	offer := vol.expect("New request")
	unreadable(t, phishedVol, vol.room, offer.ID)
	if _, err := phishedVol.Send(ctx, vol.room, "!accept"); err != nil {
		t.Fatal(err)
	}
	vol.expect("only take this from a verified session")
	vol.cmd("!accept", "is yours")

	// Someone resets the volunteer's identity: the bot notices at their next command,
	// refuses it and tells staff; !trust restores it.
	if err := vol.c.ResetIdentity(ctx); err != nil {
		t.Fatal(err)
	}
	for warned := false; !warned; {
		vol.say("!me") // until the bot has fetched the new keys
		wctx, wcancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := staff.WaitFor(wctx, staffRoom, func(m testenv.Msg) bool {
			return strings.Contains(m.Body, "identity (cross-signing keys) of "+volID+" changed")
		})
		wcancel()
		warned = err == nil
		if ctx.Err() != nil {
			t.Fatal("staff were never told that the volunteer's identity changed")
		}
	}
	staffSay(staff, "!trust "+volID, "I trust the current identity of "+volID)
	vol.cmd("!off", "off duty")
}
