package store_test

import (
	"strings"
	"testing"

	"switchboard/bot"
	"switchboard/internal/testenv"
)

// In a relayed case (the default), the case room holds the helpers only: the requester
// talks to the bot in her own chat, her words reach the room marked as hers, and the
// helper's reach her under a pseudonym, never their account, until they !reveal.
func TestRelayedCaseKeepsTheHelperAnonymous(t *testing.T) {
	d := newDesk(t, testenv.NewDB(t))
	d.reconfigure(func(c *bot.Config) { c.SharedRooms = false })
	a := d.volunteer("@a:localhost", "en", "!on")
	ref := d.intake(alice, room, "none", "en")
	d.drain(room)
	expect(t, d.send("@a:localhost", a, "!accept "+ref), "is yours")
	acts := d.actions()
	if len(acts) != 1 || acts[0].Action != bot.ActionCreateRoom || strings.Join(acts[0].Payload.Users, ",") != "@a:localhost" {
		t.Fatalf("the case room must be made for the volunteer only: %+v", acts)
	}
	if err := d.svc.RoomCreated(t.Context(), acts[0].Payload.CaseID, "!case:localhost"); err != nil {
		t.Fatal(err)
	}
	told := strings.Join(d.drain(room), "\n")
	if !strings.Contains(told, "Just write here") || strings.Contains(told, "@a:localhost") {
		t.Fatalf("the requester was told %q", told)
	}
	d.joins("@a:localhost", "!case:localhost")
	intro := strings.Join(d.drain("!case:localhost"), "\n")
	if !strings.Contains(intro, "Welcome to the private room for "+ref) || !strings.Contains(intro, "!reveal") {
		t.Fatalf("the summary: %q", intro)
	}
	pseudonym := intro[strings.Index(intro, "reaches them as ")+len("reaches them as ") : strings.Index(intro, ", never your account")]
	if !strings.HasPrefix(pseudonym, "Helper ") {
		t.Fatalf("pseudonym %q", pseudonym)
	}

	// Her words go into the room, with no answer of the bot's in between.
	if r := d.send(alice, room, "Thank you. It started in May."); len(r) != 0 {
		t.Errorf("the bot answered a relayed message: %q", r)
	}
	expect(t, d.drain("!case:localhost"), alice+" (direct message): Thank you. It started in May.")

	// The helper's words reach her under the pseudonym, formatting kept.
	d.inRoom("@a:localhost", "!case:localhost", "I am **here** to help")
	var toHer []bot.Outgoing
	for _, m := range d.drainAll() {
		if m.Conversation == room {
			toHer = append(toHer, m)
		}
	}
	if len(toHer) != 1 || toHer[0].Plain != pseudonym+": I am **here** to help" || !strings.Contains(toHer[0].Markdown, "I am **here** to help") {
		t.Fatalf("relayed to her: %+v", toHer)
	}
	if n := d.count(`SELECT count(*) FROM case_events WHERE kind = 'relayed' AND actor = '@a:localhost'`); n != 1 {
		t.Errorf("%d audit rows say who said what, want 1", n)
	}

	// Only by her own choice does the helper say who she is.
	expect(t, d.inRoom("@a:localhost", "!case:localhost", "!reveal"), "now knows who you are")
	expect(t, d.drain(room), pseudonym+" has told me to let you know who they are: @a:localhost")

	// A transfer changes the helpers' side only: she is told in one line, and stays where she is.
	expect(t, d.inRoom("@a:localhost", "!case:localhost", "!transfer"), "goes back to the queue")
	d.membersAction("!case:localhost")
	expect(t, d.drain(room), "Someone else will now help you with "+ref)
}
