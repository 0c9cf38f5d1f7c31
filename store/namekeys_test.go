package store_test

import (
	"testing"

	"switchboard/internal/testenv"
)

// Before names had one comparison key, the database's lower() (ASCII only under the C
// locale) and a decomposed accent or a bidi mark made a case that names a volunteer,
// or someone they declared a conflict with, look like it named someone else.
func TestNamesCompareInOneWorld(t *testing.T) {
	d := newDesk(t, testenv.NewDB(t))
	// Émile's wiki name, as staff typed it; Olga declared a conflict with Иван.
	expect(t, d.send(staff, staffRoom, "!volunteer add @emile:localhost Émile"), "on the roster")
	for _, c := range []string{"!volunteer confirm @emile:localhost", "!volunteer promote @emile:localhost"} {
		d.send(staff, staffRoom, c)
	}
	em := "!dm-emile:localhost"
	expect(t, d.send("@emile:localhost", em, "!languages en"), "You help in")
	expect(t, d.send("@emile:localhost", em, "!on"), "on duty")
	olga := d.volunteer("@olga:localhost", "en", "!on", "!conflict add Иван")
	for _, parties := range []string{"E\u0301MILE, иван", "émile\u200e, ИВАН", "\u202aÉmile\u202c, Ива\u200bн"} {
		ref := d.intake(alice, room, parties, "en")
		if st, who := d.caseState(ref); st != "queued" || who != "" {
			t.Errorf("parties %q: the case is %s with %q; it names both volunteers and must wait", parties, st, who)
		}
		expect(t, d.send(alice, room, "!cancel"), "withdrawn")
	}
	d.drain(olga)
	// Someone else entirely is offered to them.
	ref := d.intake(alice, room, "Somebody Else", "en")
	if st, who := d.caseState(ref); st != "offered" || who == "" {
		t.Errorf("a case naming neither: %s with %q", st, who)
	}
}

// A volunteer without a wiki name is asked for one, and offered nothing until then.
func TestVolunteerWithoutWikiNameIsAskedForIt(t *testing.T) {
	d := newDesk(t, testenv.NewDB(t))
	expect(t, d.send(staff, staffRoom, "!volunteer add @nameless:localhost"), "on the roster")
	for _, c := range []string{"!volunteer confirm @nameless:localhost", "!volunteer promote @nameless:localhost"} {
		d.send(staff, staffRoom, c)
	}
	dm := "!dm-nameless:localhost"
	expect(t, d.send("@nameless:localhost", dm, "!languages en"), "You help in")
	expect(t, d.send("@nameless:localhost", dm, "!on"), "on duty", "tell me your wiki username")
	ref := d.intake(alice, room, "none", "en")
	if st, _ := d.caseState(ref); st != "queued" {
		t.Fatalf("offered to a volunteer without a wiki name: %s", st)
	}
	expect(t, d.send("@nameless:localhost", dm, "!wikiname Nameless One"), "your wiki username is Nameless One")
	if st, who := d.caseState(ref); st != "offered" || who != "@nameless:localhost" {
		t.Fatalf("after the name: %s with %q", st, who)
	}
	expect(t, d.send("@nameless:localhost", dm, "!wikiname Someone Else"), "ask a staff member")
	expect(t, d.send(staff, staffRoom, "!volunteer wiki @nameless:localhost Someone Else"), "is now Someone Else")
}
