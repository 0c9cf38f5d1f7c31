package irc_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/id"

	"switchboard/internal/testenv"
)

// The relay end to end: an IRC requester on InspIRCd + Atheme, a Matrix volunteer with
// E2EE on Dendrite. The case room has the volunteer; the requester's private messages
// appear there marked as theirs, encrypted; the volunteer's reach the requester by
// PRIVMSG with the volunteer's name; while the requester is offline their messages are
// kept (and the room is told), and delivered when they are back.
func TestRelayEndToEnd(t *testing.T) {
	t.Parallel()
	hs, n := testenv.Homeserver(t), testenv.IRCNetwork(t)
	botID, password := hs.NewUser(t, "switchboard")
	acct, ircPass := n.NewAccount(t, "sbrelay")
	ctx, cancel := context.WithTimeout(context.Background(), 180*time.Second)
	defer cancel()
	staff := testenv.NewMatrixUser(t, "staff")
	staffRoom, err := staff.CreateRoom(ctx, "Staff", botID)
	if err != nil {
		t.Fatal(err)
	}
	cfg := appConfig(t, hs, n, botID.String(), password, acct, ircPass)
	cfg.Service.StaffRoom, cfg.Service.Staff = staffRoom.String(), []string{staff.UserID().String()}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	runApp(t, &cfg).waitFor(t, 90*time.Second, "Connected to IRC", "Switchboard is running")
	matrixSay := func(c *testenv.Client, room interface{ String() string }, text, want string) testenv.Msg {
		t.Helper()
		r := idOf(room)
		if _, err := c.Send(ctx, r, text); err != nil {
			t.Fatal(err)
		}
		return c.Expect(t, r, want)
	}
	// A vetted volunteer on duty.
	vol := testenv.NewMatrixUser(t, "vol")
	if err := vol.Mautrix().SetDisplayName(ctx, "Ana V"); err != nil {
		t.Fatal(err)
	}
	volDM, err := vol.CreateDM(ctx, botID)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range testenv.Enrol(vol.UserID().String()) {
		matrixSay(staff, staffRoom, c, vol.UserID().String())
	}
	matrixSay(vol, volDM, "!languages en", "You help in")
	matrixSay(vol, volDM, "!on", "on duty")

	// The requester, identified on IRC.
	reqAcct, reqPass := n.NewAccount(t, "lena")
	req := testenv.NewIRCClient(t, n, reqAcct, reqAcct, reqPass)
	ircSay := func(text, want string) {
		t.Helper()
		if err := req.Privmsg(acct, text); err != nil {
			t.Fatal(err)
		}
		req.Expect(t, acct, want)
	}
	for _, s := range [][2]string{{"hello", "1 of 4"}, {"no", "2 of 4"}, {"no", "3 of 4"}, {"no", "4 of 4"},
		{"no", "what happened"}, {"Someone mocks me on every talk page", "usernames"}, {"none", "Which wiki"},
		{"en.wikipedia.org", "language"}, {"en", "Shall I open"}, {"yes", "is open"}} {
		ircSay(s[0], s[1])
	}
	vol.Expect(t, volDM, "New request")
	matrixSay(vol, volDM, "!accept", "is yours")
	req.Expect(t, acct, "a volunteer has taken your request")
	inv, err := vol.NextInvite(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if m := vol.Expect(t, inv.Room, "mocks me on every talk page"); !strings.Contains(m.Body, "appear here marked (IRC)") {
		t.Errorf("the summary does not say the requester is relayed from IRC: %q", m.Body)
	}

	// IRC → room.
	start := time.Now()
	if err := req.Privmsg(acct, "It happened again this morning"); err != nil {
		t.Fatal(err)
	}
	in := vol.Expect(t, inv.Room, "It happened again this morning")
	if !in.Encrypted || !strings.Contains(in.Body, reqAcct) {
		t.Errorf("relayed in: encrypted=%v %q", in.Encrypted, in.Body)
	}
	t.Logf("relay IRC → room: %v", time.Since(start))
	// Room → IRC, under the case's pseudonym for the volunteer, never their name.
	start = time.Now()
	if _, err := vol.Send(ctx, inv.Room, "Which page was it?"); err != nil {
		t.Fatal(err)
	}
	out := req.Expect(t, acct, "Which page was it?")
	if !strings.HasPrefix(out.Text, "Helper ") || strings.Contains(out.Text, "Ana V") || strings.Contains(out.Text, vol.UserID().String()) {
		t.Errorf("relayed out not under the pseudonym alone: %q", out.Text)
	}
	t.Logf("relay room → IRC: %v", time.Since(start))

	// Offline: kept, the room is told, delivered when back. Quit returns once the
	// server has dropped the nick, so the bot's send finds it gone.
	req.Quit()
	if _, err := vol.Send(ctx, inv.Room, "Are you still there?"); err != nil {
		t.Fatal(err)
	}
	vol.Expect(t, inv.Room, "gone offline on IRC")
	back := testenv.NewIRCClient(t, n, reqAcct, reqAcct, reqPass) // back on the same nick: MONITOR sees it
	back.ExpectTimeout = 60 * time.Second
	back.Expect(t, acct, "Are you still there?")
	vol.Expect(t, inv.Room, "back on IRC")
}

func idOf(r interface{ String() string }) id.RoomID { return id.RoomID(r.String()) }
