package store_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"switchboard/bot"
	"switchboard/internal/testenv"
)

// Routing tests written against mutants that outlived the suite (docs/testing.md).

// A volunteer coming on duty is offered every case that waited for them, up to
// their limit, not only the oldest: the others would otherwise wait for the next
// change of duty, with nobody told.
func TestComingOnDutyOffersEveryWaitingCase(t *testing.T) {
	d := newDesk(t, testenv.NewDB(t))
	dm := d.volunteer("@val:localhost", "en", "!limit 3")
	var refs []string
	for i := range 3 {
		refs = append(refs, d.intake(fmt.Sprintf("@req%d:localhost", i), fmt.Sprintf("!dm-req%d:localhost", i), "none", "en"))
	}
	for _, ref := range refs {
		if st, who := d.caseState(ref); st != "queued" || who != "" {
			t.Fatalf("before anyone is on duty, case %s is %s with %q", ref, st, who)
		}
	}
	d.drain(dm)
	got := d.send("@val:localhost", dm, "!on")
	expect(t, got, "on duty")
	for _, ref := range refs {
		if st, who := d.caseState(ref); st != "offered" || who != "@val:localhost" {
			t.Errorf("after !on, case %s is %s with %q; want offered to @val:localhost", ref, st, who)
		}
		expect(t, got, "!accept "+ref)
	}
}

// Each requester hears where their case stands in the queue when it opens: the
// first that they are next, the others how many wait before them.
func TestQueuePositionIsTold(t *testing.T) {
	d := newDesk(t, testenv.NewDB(t))
	for i, want := range []string{"Yours is the next request in line", "There is 1 request ahead of yours",
		"There are 2 requests ahead of yours"} {
		who, conv := fmt.Sprintf("@req%d:localhost", i), fmt.Sprintf("!dm-req%d:localhost", i)
		for _, a := range []string{"hello", "no", "no", "no", "no", "Someone keeps insulting me", "none", "en.wikipedia.org", "en"} {
			d.send(who, conv, a)
		}
		got := d.send(who, conv, "yes")
		expect(t, got, "Your request is open", want)
		for _, other := range []string{"next request in line", "ahead of yours"} {
			if !strings.Contains(want, other) && has(got, other) {
				t.Errorf("requester %d also heard %q: %q", i, other, got)
			}
		}
	}
}

// A case offered to a volunteer who has not answered is still waiting: coordinators
// are alerted when it waits too long, and the requester is reassured, as for a case
// nobody was offered yet.
func TestOfferedCaseIsStillWatched(t *testing.T) {
	d := newDesk(t, testenv.NewDB(t))
	// An offer that outlasts both timers, so the case is still offered when they fire.
	d.reconfigure(func(c *bot.Config) { c.OfferExpiry = 3 * time.Hour })
	dm := d.volunteer("@val:localhost", "en", "!on")
	ref := d.intake(alice, room, "none", "en")
	if st, who := d.caseState(ref); st != "offered" || who != "@val:localhost" {
		t.Fatalf("case %s with %q; want offered to @val:localhost", st, who)
	}
	d.drain(dm)
	d.drain(room)
	d.drain(d.cfg.CoordinatorsConversation)

	d.advance(31 * time.Minute)
	if _, err := d.svc.FireDueTimers(t.Context()); err != nil {
		t.Fatal(err)
	}
	expect(t, d.drain(d.cfg.CoordinatorsConversation), ref, "31 minutes")
	d.advance(90 * time.Minute)
	if _, err := d.svc.FireDueTimers(t.Context()); err != nil {
		t.Fatal(err)
	}
	expect(t, d.drain(room), "still waiting", ref)
	if st, _ := d.caseState(ref); st != "offered" {
		t.Fatalf("the case is %s when the timers fired; the test needs it offered", st)
	}
}
