package store_test

import (
	"context"
	"testing"
	"time"

	"switchboard/internal/testenv"
)

// A case queued while nobody fits must be offered once someone does, though nothing
// happens to the case itself: a volunteer's shift begins, or a volunteer at their limit
// closes a case. Before RouteWaiting (run every minute by app.Run), both waited until a
// volunteer happened to type a duty command; `switchboard simulate` found it.
func TestWaitingCaseIsOfferedWhenSomeoneFits(t *testing.T) {
	d := newDesk(t, testenv.NewDB(t)) // Sunday 12:00 UTC
	ctx := context.Background()
	shift := d.volunteer("@shift:localhost", "en", "!shift add Sun 13:00-15:00 UTC")
	ref := d.intake(alice, room, "none", "en")
	if st, _ := d.caseState(ref); st != "queued" {
		t.Fatalf("before the shift the case is %s, want queued", st)
	}
	d.advance(time.Hour + time.Minute) // 13:01, in the shift
	if err := d.svc.RouteWaiting(ctx); err != nil {
		t.Fatal(err)
	}
	if st, v := d.caseState(ref); st != "offered" || v != "@shift:localhost" {
		t.Fatalf("once the shift began the case is %s (volunteer %q), want offered to @shift:localhost", st, v)
	}
	expect(t, d.drain(shift), ref)

	// A volunteer at their limit closes a case; the one waiting behind it is offered.
	busy := d.volunteer("@busy:localhost", "de", "!on", "!limit 1")
	first := d.intake("@bob:localhost", "!dm-bob:localhost", "none", "de")
	second := d.intake("@carol:localhost", "!dm-carol:localhost", "none", "de")
	if st, _ := d.caseState(second); st != "queued" {
		t.Fatalf("the second case is %s while the only German speaker is at their limit, want queued", st)
	}
	d.closeInRoom(first, "@busy:localhost", busy, "!case-first:localhost")
	d.drain(busy)
	if st, _ := d.caseState(second); st != "queued" {
		t.Fatalf("the second case is %s right after the close, want queued until the sweep", st)
	}
	if err := d.svc.RouteWaiting(ctx); err != nil {
		t.Fatal(err)
	}
	if st, v := d.caseState(second); st != "offered" || v != "@busy:localhost" {
		t.Fatalf("after the close the second case is %s (volunteer %q), want offered to @busy:localhost", st, v)
	}
	expect(t, d.drain(busy), second)
}
