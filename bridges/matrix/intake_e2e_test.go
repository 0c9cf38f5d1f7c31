package matrix_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"switchboard/internal/testenv"
)

func TestEverydayIntakeEndToEnd(t *testing.T) {
	t.Parallel()
	b := newBot(t, testenv.Homeserver(t), testenv.NewDB(t))
	b.start()
	alice := newRequester(t, b, "alice")
	alice.say("hello")
	greeting := alice.expect("not an emergency service")
	if !strings.Contains(greeting.FormattedBody, "<strong>not an emergency service</strong>") {
		t.Errorf("no HTML formatting: %q", greeting.FormattedBody)
	}
	// What the bot says in one turn comes as one message: one notification, not three.
	if !strings.Contains(greeting.Body, "1 of 4") {
		t.Errorf("the greeting should end with the first question: %q", greeting.Body)
	}
	if reask := alice.answer("maybe", "did not understand"); !strings.Contains(reask.Body, "1 of 4") {
		t.Errorf("an unclear answer should be followed by the question again: %q", reask.Body)
	}
	alice.answer("no", "2 of 4")
	alice.answer("No", "3 of 4")
	alice.answer("n", "4 of 4")
	alice.answer("nope", "what happened")
	story := "Someone <b>keeps</b> reverting me & calling me names"
	alice.answer(story, "usernames")
	alice.answer("bad_actor, User:Other_one", "Which wiki")
	alice.answer("en.wikipedia.org", "language")
	summary := alice.answer("English", "Bad actor, Other one")
	if !strings.Contains(summary.Body, story) || strings.Contains(summary.FormattedBody, "<b>keeps") ||
		!strings.Contains(summary.FormattedBody, "&lt;b&gt;keeps") {
		t.Errorf("the story must come back as text, never as HTML: %q", summary.FormattedBody)
	}
	opened := alice.answer("yes", "Your request is open")
	if n := b.count(`SELECT count(*) FROM cases WHERE route = 'volunteer' AND state = 'queued'
		AND strpos($1, ref) > 0`, opened.Body); n != 1 {
		t.Errorf("no queued volunteer-route case with the reference the requester was given")
	}
	alice.answer("!status", "waiting for a volunteer")
	alice.answer("!help", "!cancel")
	alice.answer("!cancel", "withdrawn")
	if n := b.count(`SELECT count(*) FROM cases WHERE state = 'withdrawn'`); n != 1 {
		t.Error("!cancel did not withdraw the case")
	}
	// Privacy: nothing the person wrote reaches the log.
	if logs := b.logs.String(); strings.Contains(logs, "calling me names") || strings.Contains(logs, "Bad actor") {
		t.Error("the bot's log contains case content")
	}
}

func TestStaffRouteNoticeWithoutContent(t *testing.T) {
	t.Parallel()
	hs := testenv.Homeserver(t)
	b := newBot(t, hs, testenv.NewDB(t))
	staff := testenv.NewMatrixUser(t, "staff")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	staffRoom := createEncryptedRoom(t, ctx, staff, b.ID)
	b.cfg.Service.StaffRoom = staffRoom.String()
	b.cfg.Service.Staff = []string{staff.UserID().String()} // for the command that ends the scan below
	b.start()

	bob := newRequester(t, b, "bob")
	bob.say("I need help")
	bob.expect("1 of 4")
	bob.say("yes")
	if m := bob.expect("emergency@wikimedia.org"); !strings.Contains(m.Body, "2 of 4") ||
		strings.Index(m.Body, "emergency@") > strings.Index(m.Body, "2 of 4") {
		t.Errorf("the emergency pointers must come first, then the next question: %q", m.Body)
	}
	notice := staff.Expect(t, staffRoom, "staff-route request")
	if !notice.Encrypted || notice.Type != event.MsgNotice || !strings.Contains(notice.Body, "SB-") {
		t.Errorf("staff notice: %+v", notice)
	}
	bob.answer("no", "3 of 4")
	bob.answer("no", "4 of 4")
	bob.answer("no", "what happened")
	bob.answer("He posted my home address and said he will come", "usernames")
	bob.answer("Threatening_user", "Which wiki")
	bob.answer("commons.wikimedia.org", "language")
	bob.answer("en", "home address")
	bob.answer("yes", "Wikimedia Foundation staff")
	// The staff room's messages go out in order, so once the answer to a command sent
	// now has arrived, so has anything the bot meant for staff while bob told his story.
	if _, err := staff.Send(ctx, staffRoom, "!blocks"); err != nil {
		t.Fatal(err)
	}
	staff.Expect(t, staffRoom, "Nobody is blocked")
	for _, m := range staff.Messages(staffRoom) {
		if contains(m.Body, "address") || contains(m.Body, "Threatening") || contains(m.Body, bob.c.UserID().String()) {
			t.Errorf("the staff room got case content: %q", m.Body)
		}
	}
	if n := b.count(`SELECT count(*) FROM cases WHERE route = 'staff' AND state = 'staff' AND q_harm`); n != 1 {
		t.Error("no staff-route case")
	}
}

func createEncryptedRoom(t *testing.T, ctx context.Context, c *testenv.Client, invite ...id.UserID) id.RoomID {
	t.Helper()
	resp, err := c.Mautrix().CreateRoom(ctx, &mautrix.ReqCreateRoom{
		Preset: "private_chat", Invite: invite,
		InitialState: []*event.Event{{Type: event.StateEncryption,
			Content: event.Content{Parsed: &event.EncryptionEventContent{Algorithm: id.AlgorithmMegolmV1}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return resp.RoomID
}
