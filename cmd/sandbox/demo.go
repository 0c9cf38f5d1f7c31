package main

import (
	"context"
	"fmt"
	"strings"

	"maunium.net/go/mautrix/id"

	"switchboard/internal/testenv"
)

// playDemo plays the whole journey against the running sandbox and prints it as each
// person saw it: an everyday case taken by a volunteer and worked in a relayed,
// encrypted case room, with a follow-up, close and feedback; a staff-route case,
// paged, acknowledged and taken in a staff case room; an IRC requester, whose case a
// trainee and their mentor work. It ends with what is where on the homeserver.
func (sb *sandbox) playDemo(ctx context.Context) error {
	tr, t := sb.tr, sb.team
	req := t["requester"]
	if err := sb.login(ctx, req); err != nil {
		return err
	}
	dm, err := req.c.CreateDM(ctx, sb.botID)
	if err != nil {
		return err
	}
	req.dm = dm
	tr.note("Every Matrix message below was end-to-end encrypted (the demo fails if one was not).\n" +
		"Each block is a room as its members saw it; a requester never sees a helper's account.")
	if err := sb.everydayCase(ctx); err != nil {
		return err
	}
	if err := sb.staffCase(ctx); err != nil {
		return err
	}
	if err := sb.ircCase(ctx); err != nil {
		return err
	}
	tr.section("The coordinators' view")
	coord := tr.room(t["coordinator"].c, sb.coordRoom, "coordinators' room")
	if _, err := coord.talk(ctx, "!stats 7d", "Last 7 days"); err != nil {
		return err
	}
	if err := sb.whatIsWhere(ctx); err != nil {
		return err
	}
	if len(tr.plaintext) > 0 {
		return fmt.Errorf("messages arrived unencrypted:\n  %s", strings.Join(tr.plaintext, "\n  "))
	}
	tr.note("The demo is over; everything is deleted now.")
	return nil
}

// intake answers the intake's questions from the first to the last; each step is the
// answer and what the bot says next.
type step struct{ say, want string }

func everydayIntake(story, parties string) []step {
	return []step{
		{"hello", "1 of 4"},
		{"no", "2 of 4"},
		{"no", "3 of 4"},
		{"no", "4 of 4"},
		{"no", "what happened"},
		{story, "usernames"},
		{parties, "Which wiki"},
		{"en.wikipedia.org", "language"},
		{"English", "Shall I open"},
	}
}

func (sb *sandbox) everydayCase(ctx context.Context) error {
	tr, t := sb.tr, sb.team
	req, vol := t["requester"], t["volunteer"]
	tr.section("1. An everyday case: a requester asks for help, a volunteer takes it")
	her := tr.room(req.c, req.dm, "requester ⇄ switchboard (her direct chat)")
	for _, s := range everydayIntake("Another editor follows me to every article I edit and reverts me with rude comments.", "Example_troll") {
		if _, err := her.talk(ctx, s.say, s.want); err != nil {
			return err
		}
	}
	opened, err := her.talk(ctx, "yes", "Your request is open")
	if err != nil {
		return err
	}
	ref, err := refIn(opened.Body)
	if err != nil {
		return err
	}
	// Written before anyone took it: kept for whoever does, in the room's summary.
	if _, err := her.talk(ctx, "They have now started posting about me on my talk page too.", "added that to your request"); err != nil {
		return err
	}

	vdm := tr.room(vol.c, vol.dm, "Vera ⇄ switchboard (her direct chat)")
	if _, err := vdm.expect(ctx, "New request "+ref); err != nil {
		return err
	}
	if _, err := vdm.talk(ctx, "!accept", "is yours"); err != nil {
		return err
	}
	if _, err := her.expect(ctx, "a volunteer has taken your request"); err != nil {
		return err
	}
	caseRoom, err := sb.invitedTo(ctx, vol)
	if err != nil {
		return err
	}
	helpers := tr.room(vol.c, caseRoom, "case room "+ref+" (helpers only; relayed to her)")
	if _, err := helpers.expect(ctx, "!reveal"); err != nil {
		return err
	}
	tr.note("Vera and the requester talk: Vera in the case room, the requester in her direct chat.")
	if err := helpers.say(ctx, "Hello, I am here to help. Could you send me a link to one of those reverts?"); err != nil {
		return err
	}
	if _, err := her.expect(ctx, "Could you send me a link"); err != nil {
		return err
	}
	if err := her.say(ctx, "Here: https://en.wikipedia.org/w/index.php?diff=1234567"); err != nil {
		return err
	}
	if _, err := helpers.expect(ctx, "diff=1234567"); err != nil {
		return err
	}
	if err := helpers.say(ctx, "Thank you. I have asked an administrator to look at the account."); err != nil {
		return err
	}
	if _, err := her.expect(ctx, "asked an administrator"); err != nil {
		return err
	}
	tr.note("A follow-up from the requester, the next day:")
	if err := her.say(ctx, "One more thing: it started after I nominated one of their articles for deletion."); err != nil {
		return err
	}
	if _, err := helpers.expect(ctx, "nominated one of their articles"); err != nil {
		return err
	}
	if err := helpers.say(ctx, "That helps, thank you. The account is blocked now; write to me here if it starts again."); err != nil {
		return err
	}
	if _, err := her.expect(ctx, "The account is blocked now"); err != nil {
		return err
	}
	if _, err := helpers.talk(ctx, "!close resolved the account was blocked by an administrator", "is closed"); err != nil {
		return err
	}
	if _, err := her.expect(ctx, "How did it go"); err != nil {
		return err
	}
	if _, err := her.talk(ctx, "5", "Thank you for your feedback"); err != nil {
		return err
	}
	_, err = her.talk(ctx, "!feedback The helper was quick and kind, thank you.", "kept your comment")
	return err
}

func (sb *sandbox) staffCase(ctx context.Context) error {
	tr, t := sb.tr, sb.team
	req, staff := t["requester"], t["staff"]
	tr.section("2. A staff-route case: a \"yes\" to a safety question pages the on-call staff member")
	her := tr.room(req.c, req.dm, "requester ⇄ switchboard (her direct chat)")
	if _, err := her.talk(ctx, "hello", "1 of 4"); err != nil {
		return err
	}
	if _, err := her.talk(ctx, "yes", "emergency"); err != nil {
		return err
	}
	pages, err := sb.pager.Wait(ctx, 1)
	if err != nil {
		return fmt.Errorf("no page reached the recorder: %w", err)
	}
	tr.note("The page, as the loopback recorder (standing in for ntfy on Sam's phone) received it:\n%s", describePage(pages[0]))
	staffRoom := tr.room(staff.c, sb.staffRoom, "staff room")
	mention, err := staffRoom.expect(ctx, "needs an on-call staff member")
	if err != nil {
		return err
	}
	ref, err := refIn(mention.Body)
	if err != nil {
		return err
	}
	if !strings.Contains(string(pages[0].Body), ref) {
		return fmt.Errorf("the page does not name %s: %q", ref, pages[0].Body)
	}
	if _, err := staffRoom.talk(ctx, "!ack "+ref, "Paging has stopped"); err != nil {
		return err
	}
	staffCase, err := sb.invitedTo(ctx, staff)
	if err != nil {
		return err
	}
	room := tr.room(staff.c, staffCase, "staff case room "+ref+" (staff only; relayed to her)")
	if _, err := room.expect(ctx, "Welcome to the private room for "+ref); err != nil {
		return err
	}
	tr.note("She goes on with the questions; what she answers reaches Sam at once.")
	for _, s := range []step{{"no", "3 of 4"}, {"no", "4 of 4"}, {"no", "what happened"},
		{"A user I blocked found my home address and posted it on a forum.", "usernames"},
		{"none", "Which wiki"}, {"de.wikipedia.org", "language"}, {"English", "Shall I open"},
		{"yes", "is with Wikimedia Foundation staff"}} {
		if _, err := her.talk(ctx, s.say, s.want); err != nil {
			return err
		}
	}
	if _, err := room.expect(ctx, "The requester answered (Confirmation of the summary)"); err != nil {
		return err
	}
	if err := room.say(ctx, "Hello, I am from the Trust and Safety team. Are you safe right now?"); err != nil {
		return err
	}
	if _, err := her.expect(ctx, "Are you safe right now?"); err != nil {
		return err
	}
	if err := her.say(ctx, "Yes, I am at a friend's place. Thank you for answering so fast."); err != nil {
		return err
	}
	_, err = room.expect(ctx, "at a friend's place")
	return err
}

func (sb *sandbox) ircCase(ctx context.Context) error {
	tr, t := sb.tr, sb.team
	trainee, mentor := t["trainee"], t["volunteer"]
	tr.section("3. An IRC requester; a trainee takes the case, with their mentor")
	tdm := tr.room(trainee.c, trainee.dm, "Tomas ⇄ switchboard (his direct chat)")
	if _, err := tdm.talk(ctx, "!on", "on duty until"); err != nil {
		return err
	}
	irc, err := testenv.DialIRC(ctx, sb.irc.Addr(), ircDemoAccount, ircDemoAccount, ircDemoPassword)
	if err != nil {
		return err
	}
	defer irc.Close()
	her := &ircChat{t: tr, c: irc, who: "requester", bot: sb.cfg.IRC.Nick,
		place: "IRC: requester ⇄ Switchboard (private messages, logged in to NickServ; not encrypted)"}
	for _, s := range everydayIntake("Someone mocks me on every talk page I write on.", "none") {
		if err := her.talk(ctx, s.say, s.want); err != nil {
			return err
		}
	}
	if err := her.talk(ctx, "yes", "will not be forgotten"); err != nil {
		return err
	}
	offer, err := tdm.expect(ctx, "New request")
	if err != nil {
		return err
	}
	ref, err := refIn(offer.Body)
	if err != nil {
		return err
	}
	if _, err := tdm.talk(ctx, "!accept", "is yours"); err != nil {
		return err
	}
	if err := her.expect(ctx, "a volunteer has taken your request"); err != nil {
		return err
	}
	caseRoom, err := sb.invitedTo(ctx, trainee)
	if err != nil {
		return err
	}
	if mentorRoom, err := sb.invitedTo(ctx, mentor); err != nil {
		return err
	} else if mentorRoom != caseRoom {
		return fmt.Errorf("the mentor was invited to %s, the trainee to %s", mentorRoom, caseRoom)
	}
	helpers := tr.room(trainee.c, caseRoom, "case room "+ref+" (Tomas and his mentor Vera; relayed to IRC)")
	mentorSide := tr.room(mentor.c, caseRoom, helpers.place) // the same room: each message is printed once
	if _, err := helpers.expect(ctx, "appear here marked (IRC)"); err != nil {
		return err
	}
	if err := her.say("It happened again this morning."); err != nil {
		return err
	}
	if _, err := helpers.expect(ctx, "It happened again this morning."); err != nil {
		return err
	}
	if err := helpers.say(ctx, "I am sorry. On which talk page was it?"); err != nil {
		return err
	}
	if err := her.expect(ctx, "On which talk page was it?"); err != nil {
		return err
	}
	if err := mentorSide.say(ctx, "I am the mentor of the helper you are talking to, and read along in case a second opinion helps."); err != nil {
		return err
	}
	if err := her.expect(ctx, "read along"); err != nil {
		return err
	}
	if err := her.say("Talk:Springfield. Thank you both."); err != nil {
		return err
	}
	if _, err := helpers.expect(ctx, "Talk:Springfield"); err != nil {
		return err
	}
	if _, err := helpers.talk(ctx, "!close referred reported at the administrators' noticeboard", "is closed"); err != nil {
		return err
	}
	if err := her.expect(ctx, "How did it go"); err != nil {
		return err
	}
	return her.talk(ctx, "4", "Thank you for your feedback")
}

// invitedTo returns the next room the member was invited to (and joined) other than
// the team's own rooms: a case room.
func (sb *sandbox) invitedTo(ctx context.Context, m *member) (id.RoomID, error) {
	ctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	for {
		inv, err := m.c.NextInvite(ctx)
		if err != nil {
			return "", fmt.Errorf("%s got no invitation to a case room: %w", m.label, err)
		}
		switch inv.Room {
		case sb.staffRoom, sb.coordRoom, sb.volRoom:
			continue
		}
		return inv.Room, nil
	}
}

// refIn finds a case reference (SB- and five characters) in a message.
func refIn(body string) (string, error) {
	i := strings.Index(body, "SB-")
	if i < 0 || len(body) < i+8 {
		return "", fmt.Errorf("no case reference in %q", body)
	}
	return body[i : i+8], nil
}
