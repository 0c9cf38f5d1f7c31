package store_test

import (
	"context"
	"maps"
	"testing"
	"time"

	"switchboard/bot"
	"switchboard/internal/testenv"
	"switchboard/store"
)

// The metrics snapshot over the desk's clock: the durations the histograms hold
// (queued → accepted, opened → first reply, opened → acknowledged) are the ones the
// people lived, in the right buckets, and the gauges say who waits and for how long.
func TestMetricsSnapshot(t *testing.T) {
	ctx := context.Background()
	d := newDesk(t, testenv.NewDB(t))
	d.reconfigure(func(c *bot.Config) { c.OnCall, c.Pager = []string{staff}, true })
	now := func() time.Time { return time.UnixMilli(d.clock.Load()) }
	snap := func() store.Snapshot {
		t.Helper()
		s, err := d.st.Metrics(ctx, now())
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	// bucket is the cumulative count at bound b.
	bucket := func(h store.Histogram, b time.Duration) uint64 {
		for i, bound := range store.MetricBuckets {
			if bound == b && i < len(h.Counts) {
				return h.Counts[i]
			}
		}
		t.Fatalf("no bucket %s", b)
		return 0
	}

	a := d.volunteer("@a:localhost", "en", "!on")
	ref := d.intake(alice, room, "none", "en")
	d.advance(3 * time.Minute)
	if s := snap(); s.Cases[[2]string{"volunteer", "queued"}]+s.Cases[[2]string{"volunteer", "offered"}] != 1 || s.OldestQueued != 3*time.Minute {
		t.Errorf("waiting: %v, oldest %s; want one case waiting 3m0s", s.Cases, s.OldestQueued)
	}
	expect(t, d.send("@a:localhost", a, "!accept "+ref), "is yours")
	d.roomFor("!case:localhost")
	d.joins("@a:localhost", "!case:localhost")
	d.advance(4 * time.Minute)
	d.inRoom("@a:localhost", "!case:localhost", "Hello, I am here to help")

	const bob, bobRoom = "@bob:localhost", "!dm-bob:localhost"
	sref := d.staffCase(bob, bobRoom)
	d.advance(7 * time.Minute)
	if s := snap(); s.OldestUnacked != 7*time.Minute {
		t.Errorf("the unacknowledged staff case waited %s, want 7m0s", s.OldestUnacked)
	}
	expect(t, d.send(staff, staffRoom, "!ack "+sref), "is with")
	d.drainAll()

	s := snap()
	if h := s.QueueWait; h.Count != 1 || h.Sum != 3*time.Minute || bucket(h, time.Minute) != 0 || bucket(h, 5*time.Minute) != 1 {
		t.Errorf("queue wait: %+v, want one of 3m0s", h)
	}
	if h := s.FirstReply["volunteer"]; h.Count != 1 || h.Sum != 7*time.Minute || bucket(h, 5*time.Minute) != 0 || bucket(h, 15*time.Minute) != 1 {
		t.Errorf("first reply: %+v, want one of 7m0s", h)
	}
	if h := s.AckTime; h.Count != 1 || h.Sum != 7*time.Minute || bucket(h, 15*time.Minute) != 1 {
		t.Errorf("time to acknowledge: %+v, want one of 7m0s", h)
	}
	if s.OldestQueued != 0 || s.OldestUnacked != 0 {
		t.Errorf("nobody waits any more, but oldest queued %s, unacknowledged %s", s.OldestQueued, s.OldestUnacked)
	}
	for kind, want := range map[bot.EventKind]int64{bot.EventIntakeStarted: 2, bot.EventCaseOpened: 2,
		bot.EventAccepted: 1, bot.EventPaged: 1, bot.EventAcked: 1} {
		if s.Events[string(kind)] != want {
			t.Errorf("%s: %d events, want %d", kind, s.Events[string(kind)], want)
		}
	}
	if s.Cases[[2]string{"staff", "staff"}]+s.Cases[[2]string{"staff", "accepted"}] != 1 {
		t.Errorf("cases: %v", s.Cases)
	}
	for p, b := range s.Outbox {
		if b.Rows != 0 {
			t.Errorf("outbox %s: %d rows after draining", p, b.Rows)
		}
	}

	// The audit counts are kept between scrapes up to a watermark that passes rows
	// once they are settled: as time goes on and events are added they stay exact,
	// and another process (a new replica) counting from scratch agrees.
	d.advance(time.Hour)
	if got := snap().Events[string(bot.EventIntakeStarted)]; got != 2 {
		t.Errorf("once settled: %d intakes started, want 2", got)
	}
	d.send("@carol:localhost", "!dm-carol:localhost", "hello")
	if got := snap().Events[string(bot.EventIntakeStarted)]; got != 3 {
		t.Errorf("after one more: %d intakes started, want 3", got)
	}
	d.advance(time.Hour)
	again := snap()
	other := openStore(t, d.dsn)
	fresh, err := other.Metrics(ctx, now())
	if err != nil {
		t.Fatal(err)
	}
	if again.Events[string(bot.EventIntakeStarted)] != 3 || !maps.Equal(again.Events, fresh.Events) {
		t.Errorf("kept counts %v, counted afresh %v", again.Events, fresh.Events)
	}
}
