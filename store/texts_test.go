package store_test

import (
	"fmt"
	"strings"
	"testing"

	"switchboard/bot"
	"switchboard/internal/testenv"
)

// textEvents lists the audit rows of the text library: actor, kind, name, language,
// and whether the text's words are in the row (they must not be).
func (d *desk) textEvents() []string {
	d.t.Helper()
	var rows []struct {
		Actor, Kind, Detail string
		Case                *int64
	}
	if err := d.st.DB.Select(&rows, `SELECT actor, kind, detail::text AS detail, case_id AS case FROM case_events
		WHERE kind LIKE 'text\_%' ORDER BY id`); err != nil {
		d.t.Fatal(err)
	}
	var out []string
	for _, r := range rows {
		out = append(out, r.Actor+" "+r.Kind+" "+r.Detail)
	}
	return out
}

// TestTextModuleLibrary: staff keep the library in the staff room; every change is
// audited with who, which text and which language, never the words.
func TestTextModuleLibrary(t *testing.T) {
	d := newDesk(t, testenv.NewDB(t))
	shipped := strings.Join(d.send(staff, staffRoom, "!text list"), "\n")
	for _, name := range []bot.TextName{bot.TextChecklist, bot.TextNoticeboard, bot.TextTrustSafety, bot.TextVolunteerRole, bot.TextDiffs} {
		if !strings.Contains(shipped, string(name)+": en") {
			t.Errorf("the shipped text %s (en) is not listed: %q", name, shipped)
		}
	}
	expect(t, d.send(staff, staffRoom, "!text show diffs"), "diffs in en, last changed", "by Switchboard", "Special:Contributions")

	const german = "**Meldung an einer Notiztafel.** Schreiben Sie kurz, wer beteiligt ist, und verlinken Sie die Bearbeitungen (Diffs)."
	expect(t, d.send(staff, staffRoom, "!text add noticeboard de "+german), "Added the text noticeboard in de")
	expect(t, d.send(staff, staffRoom, "!text add noticeboard de noch einmal"), "noticeboard already has a text in de")
	expect(t, d.send(staff, staffRoom, "!text show noticeboard de"), "by "+staff, "Meldung an einer Notiztafel")
	expect(t, d.send(staff, staffRoom, "!text edit noticeboard de "+german+" Danke."), "Changed the text noticeboard in de")
	expect(t, d.send(staff, staffRoom, "!text edit noticeboard fr Bonjour"), "There is no text noticeboard in fr")
	expect(t, d.send(staff, staffRoom, "!text add list en anything"), "cannot be named list")
	expect(t, d.send(staff, staffRoom, "!text add Bad_Name en anything"), "A name is lower-case letters")
	expect(t, d.send(staff, staffRoom, "!text add greeting xx-123456789 hi"), "A name is lower-case letters")
	expect(t, d.send(staff, staffRoom, "!text add greeting en"), "A name is lower-case letters")
	expect(t, d.send(staff, staffRoom, "!text add greeting en Hello, I am here to help."), "Added the text greeting in en")
	expect(t, d.send(staff, staffRoom, "!text list"), "greeting: en", "noticeboard: de, en")
	expect(t, d.send(staff, staffRoom, "!text remove greeting"), "Removed the text greeting (en)")
	expect(t, d.send(staff, staffRoom, "!text remove greeting"), "There is no text greeting")
	expect(t, d.send(staff, staffRoom, "!text remove noticeboard fr"), "There is no text noticeboard in fr")

	events := d.textEvents()
	want := []string{
		staff + ` text_added {"lang": "de", "text": "noticeboard", "chars": "`,
		staff + ` text_edited {"lang": "de", "text": "noticeboard", "chars": "`,
		staff + ` text_added {"lang": "en", "text": "greeting", "chars": "25"}`,
		staff + ` text_removed {"lang": "en", "text": "greeting"}`,
	}
	if len(events) != len(want) {
		t.Fatalf("audit rows of the library: %q", events)
	}
	for i, w := range want {
		if !strings.HasPrefix(events[i], w) {
			t.Errorf("audit row %d: %q, want %q…", i, events[i], w)
		}
		if strings.Contains(events[i], "Notiztafel") || strings.Contains(events[i], "Hello") {
			t.Errorf("an audit row holds the text: %q", events[i])
		}
	}
	expect(t, d.send(staff, staffRoom, "!audit "+staff), "text_added", "text=noticeboard", "text_removed")
	// Only in the staff room: staff's own direct chat does not take it.
	expect(t, d.send(staff, "!dm-staff:localhost", "!text list"), "I do not know the command !text")
}

// TestTextModulesInARelayedCase: the volunteer gets the checklist after the summary;
// !text sends a text to a requester who is not in the room, under the helper's
// pseudonym, in her language along MediaWiki's fallback chain (Swiss German → German),
// else in the default language; the room sees what she got.
func TestTextModulesInARelayedCase(t *testing.T) {
	d := newDesk(t, testenv.NewDB(t))
	d.reconfigure(func(c *bot.Config) { c.SharedRooms = false })
	expect(t, d.send(staff, staffRoom, "!text add noticeboard de **Meldung.** Nennen Sie die Benutzernamen und verlinken Sie die Diffs."),
		"Added the text noticeboard in de")
	a := d.volunteer("@a:localhost", "gsw de en", "!on")
	for _, answer := range []string{"hello", "no", "no", "no", "no", "Someone keeps insulting me on talk pages", "none", "de.wikipedia.org", "gsw", "ja"} {
		d.send(alice, room, answer)
	}
	var ref string
	if err := d.st.DB.Get(&ref, `SELECT ref FROM cases WHERE language = 'gsw'`); err != nil {
		t.Fatalf("no case in Swiss German: %v", err)
	}
	d.drain(room)
	expect(t, d.send("@a:localhost", a, "!accept "+ref), ref)
	d.roomFor("!case:localhost")
	d.drain(room)
	d.joins("@a:localhost", "!case:localhost")
	intro := strings.Join(d.drain("!case:localhost"), "\n")
	summary, checklist := strings.Index(intro, "Welcome to the private room for "+ref), strings.Index(intro, "Checklist for this case")
	if summary < 0 || checklist < summary || !strings.Contains(intro[checklist:], "!text volunteer-role") {
		t.Fatalf("the checklist must follow the summary: %q", intro)
	}
	pseudonym := intro[strings.Index(intro, "reaches them as ")+len("reaches them as ") : strings.Index(intro, ", never your account")]

	sent := func(text string) (toHer []bot.Outgoing, inRoom string) {
		t.Helper()
		inRoom = strings.Join(d.inRoom("@a:localhost", "!case:localhost", text), "\n")
		for _, m := range d.drainAll() {
			if m.Conversation == room {
				toHer = append(toHer, m)
			}
		}
		return toHer, inRoom
	}
	toHer, inRoom := sent("!text noticeboard")
	if len(toHer) != 1 || toHer[0].Action != bot.ActionRelay ||
		toHer[0].Plain != pseudonym+": Meldung. Nennen Sie die Benutzernamen und verlinken Sie die Diffs." ||
		!strings.Contains(toHer[0].Markdown, "**Meldung.**") || strings.Contains(shown(toHer[0]), "@a:localhost") {
		t.Fatalf("the German text reached her as %+v", toHer)
	}
	if !strings.Contains(inRoom, "Sent to the requester as "+pseudonym+" (text noticeboard, de):") || !strings.Contains(inRoom, "Nennen Sie") {
		t.Errorf("the room was told %q", inRoom)
	}
	toHer, _ = sent("!text diffs") // no German version: the default language's
	if len(toHer) != 1 || !strings.HasPrefix(toHer[0].Plain, pseudonym+": Collecting diffs.") {
		t.Errorf("the English fallback reached her as %+v", toHer)
	}
	toHer, inRoom = sent("!text nosuch")
	if len(toHer) != 0 || !strings.Contains(inRoom, "There is no text nosuch") || !strings.Contains(inRoom, "diffs, noticeboard, trust-and-safety") {
		t.Errorf("an unknown text: to her %+v, in the room %q", toHer, inRoom)
	}
	if _, inRoom = sent("!text"); !strings.Contains(inRoom, "Texts you can send: checklist, diffs, noticeboard") {
		t.Errorf("!text alone: %q", inRoom)
	}
	if n := d.count(`SELECT count(*) FROM case_events e JOIN cases c ON c.id = e.case_id
		WHERE c.ref = $1 AND e.kind = 'text_posted' AND e.actor = '@a:localhost'`, ref); n != 2 {
		t.Errorf("%d text_posted audit rows, want 2", n)
	}
	// From a session its owner did not verify, nothing reaches her.
	unverified := bot.Inbound{Platform: bot.Matrix, EventID: "$unverified-text", Sender: "@a:localhost",
		Conversation: "!case:localhost", Text: "!text diffs", Group: true}
	if err := d.svc.Handle(t.Context(), unverified); err != nil {
		t.Fatal(err)
	}
	refused := false
	for _, m := range d.drainAll() {
		switch {
		case m.Conversation == room:
			t.Errorf("a text from an unverified session reached her: %q", m.Plain)
		case m.Conversation == "!case:localhost" && strings.Contains(m.Plain, "verified session"):
			refused = true
		}
	}
	if !refused {
		t.Error("the unverified session was not told to verify")
	}
	// Removed in German, it falls back to English.
	expect(t, d.send(staff, staffRoom, "!text remove noticeboard de"), "Removed the text noticeboard (de)")
	if toHer, _ = sent("!text noticeboard"); len(toHer) != 1 || !strings.HasPrefix(toHer[0].Plain, pseudonym+": Reporting at a noticeboard.") {
		t.Errorf("after the German was removed: %+v", toHer)
	}
}

// TestTextModuleInASharedRoom: the requester reads the room, so the text is posted there.
func TestTextModuleInASharedRoom(t *testing.T) {
	d := newDesk(t, testenv.NewDB(t))
	a := d.volunteer("@a:localhost", "en", "!on")
	ref := d.intake(alice, room, "none", "en")
	expect(t, d.send("@a:localhost", a, "!accept "+ref), "is yours")
	d.roomFor("!case:localhost")
	d.joins("@a:localhost", "!case:localhost")
	expect(t, d.drain("!case:localhost"), "Checklist for this case")
	d.drain(room)
	expect(t, d.inRoom("@a:localhost", "!case:localhost", "!text volunteer-role"), "What volunteers can and cannot do. We can listen")
	for _, m := range d.drainAll() {
		t.Errorf("nothing else is sent, yet: %s: %q", m.Conversation, m.Plain)
	}
	// Removed, the checklist is no longer given: a transfer's next volunteer gets none.
	expect(t, d.send(staff, staffRoom, "!text remove checklist"), "Removed the text checklist (en)")
	b := d.volunteer("@b:localhost", "en")
	expect(t, d.inRoom("@a:localhost", "!case:localhost", "!transfer"), "goes back to the queue")
	d.drainAll()
	d.send("@b:localhost", b, "!on")
	expect(t, d.send("@b:localhost", b, "!accept "+ref), "is yours")
	d.drainAll()
	d.joins("@b:localhost", "!case:localhost")
	intro := strings.Join(d.drain("!case:localhost"), "\n")
	if !strings.Contains(intro, "Welcome to the private room") || strings.Contains(intro, "Checklist") {
		t.Errorf("the second volunteer's room after the checklist was removed: %q", intro)
	}
}

// TestTextModuleForIRCRequester: on IRC the text arrives as plain lines under the
// helper's pseudonym, without Markdown markers.
func TestTextModuleForIRCRequester(t *testing.T) {
	d := newDesk(t, testenv.NewDB(t))
	a := d.volunteer("@a:localhost", "en", "!on")
	irc := func(text string) []string {
		return d.deliver(bot.Inbound{Platform: bot.IRC, EventID: fmt.Sprintf("irc%d", d.seq.Add(1)), Sender: "carol",
			Conversation: "carol", Text: text})
	}
	for _, s := range []string{"hello", "no", "no", "no", "no", "Someone insults me on talk pages", "none", "en.wikipedia.org", "en"} {
		irc(s)
	}
	expect(t, irc("yes"), "Your request is open")
	d.send("@a:localhost", a, "!accept")
	d.roomFor("!relay:localhost")
	d.joins("@a:localhost", "!relay:localhost")
	d.drainAll()
	expect(t, d.inRoom("@a:localhost", "!relay:localhost", "!text diffs"), "Sent to the requester as Helper ")
	toCarol := d.drain("carol")
	if len(toCarol) != 1 || !strings.Contains(toCarol[0], ": Collecting diffs. A diff is a link to one edit.") ||
		strings.Contains(toCarol[0], "**") || !strings.HasPrefix(toCarol[0], "Helper ") {
		t.Errorf("on IRC she got %q", toCarol)
	}
}
