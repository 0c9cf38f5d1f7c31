package bot

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/rs/zerolog"
)

// memStore is just enough Store for the outbox: the outbox is tested on its own here,
// and with PostgreSQL in package store.
type memStore struct {
	Store
	mu   sync.Mutex
	rows map[int64]Outgoing
}

func (m *memStore) PendingOutbox(_ context.Context, p Platform, after int64, limit int) ([]Outgoing, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Outgoing
	for id := after + 1; id <= after+int64(limit)+100 && len(out) < limit; id++ {
		if r, ok := m.rows[id]; ok && r.Platform == p {
			out = append(out, r)
		}
	}
	return out, nil
}

func (m *memStore) OutboxSent(_ context.Context, id int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.rows, id)
	return nil
}

func (m *memStore) OutboxFailed(context.Context, int64) error { return nil }

type awaySender struct {
	mu   sync.Mutex
	away bool
	got  []int64
}

func (s *awaySender) Send(_ context.Context, o Outgoing) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.away && o.Conversation == "away" {
		return ErrRecipientAway
	}
	s.got = append(s.got, o.ID)
	return nil
}

// runOutbox runs o in the test's bubble until the test ends, and then waits for Run
// to return (it returns only once every worker has).
func runOutbox(t *testing.T, o *Outbox, poll time.Duration) {
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { o.Run(ctx, poll); close(done) }()
	t.Cleanup(func() {
		cancel()
		<-done // in a bubble: a Run that never returns is reported as a deadlock
	})
	synctest.Wait() // Run has started and polled once
}

func TestOutboxKeepsMessagesForAwayRecipients(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := &memStore{rows: map[int64]Outgoing{
			1: {ID: 1, Platform: IRC, Conversation: "away"},
			2: {ID: 2, Platform: IRC, Conversation: "here"},
			3: {ID: 3, Platform: IRC, Conversation: "away"},
		}}
		s := &awaySender{away: true}
		o := NewOutbox(st, zerolog.Nop())
		o.Register(IRC, s)
		runOutbox(t, o, 50*time.Millisecond)
		// Every worker is idle now: the first poll was dealt with completely.
		s.mu.Lock()
		if len(s.got) != 1 || s.got[0] != 2 {
			t.Errorf("sent %v, want only the message for the one who is here", s.got)
		}
		s.mu.Unlock()
		st.mu.Lock()
		if len(st.rows) != 2 {
			t.Errorf("messages for an away recipient must stay queued; %d left", len(st.rows))
		}
		st.mu.Unlock()
		time.Sleep(time.Second) // on the bubble's clock: twenty polls, the recipient still away
		synctest.Wait()
		s.mu.Lock()
		if len(s.got) != 1 {
			t.Errorf("sent %v while the recipient was away", s.got)
		}
		s.away = false
		s.mu.Unlock()
		o.Kick()
		synctest.Wait()
		s.mu.Lock()
		defer s.mu.Unlock()
		if len(s.got) != 3 || s.got[1] != 1 || s.got[2] != 3 {
			t.Errorf("after the recipient came back, sent %v; want 2, then 1 and 3 in order", s.got)
		}
		st.mu.Lock()
		defer st.mu.Unlock()
		if len(st.rows) != 0 {
			t.Errorf("%d messages left after they were sent", len(st.rows))
		}
	})
}

// Before, a message for an IRC requester who was away was kept and sent whenever her
// account name was next online, however long after: to whoever held it by then. Now
// a message not delivered within the expiry is dropped when it is next tried; a room
// action never expires.
func TestOutboxDropsExpiredMessages(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		written := time.Now()
		st := &memStore{rows: map[int64]Outgoing{
			1: {ID: 1, Platform: IRC, Conversation: "away", CreatedAt: written},
			2: {ID: 2, Platform: IRC, Conversation: "away", CreatedAt: written, Action: ActionMembers},
		}}
		s := &awaySender{away: true}
		o := NewOutbox(st, zerolog.Nop())
		o.ExpireAfter(7 * 24 * time.Hour)
		o.Register(IRC, s)
		runOutbox(t, o, time.Hour)
		time.Sleep(6 * 24 * time.Hour) // within the week: still waiting
		synctest.Wait()
		st.mu.Lock()
		if len(st.rows) != 2 {
			t.Errorf("%d rows left within the expiry, want both", len(st.rows))
		}
		st.mu.Unlock()
		time.Sleep(2 * 24 * time.Hour)
		s.mu.Lock()
		s.away = false // back online, or someone else under her name
		s.mu.Unlock()
		o.Kick()
		synctest.Wait()
		s.mu.Lock()
		defer s.mu.Unlock()
		if len(s.got) != 1 || s.got[0] != 2 {
			t.Errorf("sent %v after the expiry; want only the room action, 2", s.got)
		}
		st.mu.Lock()
		defer st.mu.Unlock()
		if len(st.rows) != 0 {
			t.Errorf("%d rows left; the expired message must be dropped", len(st.rows))
		}
	})
}

// gateSender holds every send until released, counting how many run at once.
type gateSender struct {
	parallel int
	mu       sync.Mutex
	inFlight int
	most     int
	sent     int
	release  chan struct{}
}

func (g *gateSender) Parallel() int { return g.parallel }

func (g *gateSender) Send(ctx context.Context, _ Outgoing) error {
	g.mu.Lock()
	g.inFlight++
	g.most = max(g.most, g.inFlight)
	g.mu.Unlock()
	select {
	case <-g.release:
	case <-ctx.Done():
		return ErrUnavailable
	}
	g.mu.Lock()
	g.inFlight--
	g.sent++
	g.mu.Unlock()
	return nil
}

// A sender that holds on until the far end confirms (IRC) asks for a higher bound, so
// twenty people's messages are all under way at once rather than eight at a time;
// and no two conversations wait for each other (fixed lanes made them share).
func TestOutboxParallelPerSender(t *testing.T) {
	for _, tc := range []struct {
		parallel, want int
	}{{0, defaultParallel}, {256, 20}} {
		synctest.Test(t, func(t *testing.T) {
			st := &memStore{rows: map[int64]Outgoing{}}
			var msgs []Outgoing
			for i := range 20 {
				msgs = append(msgs, Outgoing{ID: int64(i + 1), Platform: IRC, Conversation: string(rune('a' + i))})
			}
			g := &gateSender{parallel: tc.parallel, release: make(chan struct{})}
			o := NewOutbox(st, zerolog.Nop())
			if tc.parallel == 0 {
				o.Register(IRC, struct{ Sender }{g}) // hides Parallel: the default
			} else {
				o.Register(IRC, g)
			}
			runOutbox(t, o, time.Hour)
			o.Push(msgs)
			// Every worker is now either sending or waiting for a slot, for good.
			synctest.Wait()
			g.mu.Lock()
			inFlight, most := g.inFlight, g.most
			g.mu.Unlock()
			if inFlight != tc.want || most != tc.want {
				t.Errorf("bound %d: %d sends at once (at most %d), want %d", tc.parallel, inFlight, most, tc.want)
			}
			close(g.release)
			synctest.Wait()
			g.mu.Lock()
			defer g.mu.Unlock()
			if g.sent != len(msgs) || g.most != tc.want {
				t.Errorf("bound %d: %d of %d sent, at most %d at once; want all, %d at once", tc.parallel, g.sent, len(msgs), g.most, tc.want)
			}
		})
	}
}

// orderSender records what it sent and how many sends of one conversation ran at
// once; while hold is open, every send waits for it.
type orderSender struct {
	mu       sync.Mutex
	got      []int64
	inFlight map[string]int
	hold     chan struct{}
}

func (s *orderSender) Send(_ context.Context, o Outgoing) error {
	s.mu.Lock()
	s.inFlight[o.Conversation]++
	hold := s.hold
	s.mu.Unlock()
	if hold != nil {
		<-hold
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inFlight[o.Conversation]--
	s.got = append(s.got, o.ID)
	return nil
}

// One conversation's messages go one at a time and in order, whatever the bound.
func TestOutboxKeepsOrderWithinAConversation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := &memStore{rows: map[int64]Outgoing{}}
		s := &orderSender{inFlight: map[string]int{}}
		o := NewOutbox(st, zerolog.Nop())
		o.Register(IRC, s)
		runOutbox(t, o, time.Hour)
		var msgs []Outgoing
		for i := range 200 {
			msgs = append(msgs, Outgoing{ID: int64(i + 1), Platform: IRC, Conversation: []string{"x", "y"}[i%2]})
		}
		for i := 0; len(msgs) > 0; i++ { // in several pushes, so a worker may end and start again
			n := min(7, len(msgs))
			o.Push(msgs[:n])
			msgs = msgs[n:]
			if i%2 == 1 {
				synctest.Wait() // every worker is done and gone: the next push starts new ones
			}
		}
		synctest.Wait()
		s.mu.Lock()
		if len(s.got) != 200 {
			t.Fatalf("%d of 200 sent", len(s.got))
		}
		last := map[int64]int64{}
		for _, id := range s.got {
			if id <= last[id%2] {
				t.Fatalf("message %d after %d in its conversation", id, last[id%2])
			}
			last[id%2] = id
		}
		// With sends held, each conversation has one under way and the rest wait.
		s.hold = make(chan struct{})
		s.mu.Unlock()
		o.Push([]Outgoing{{ID: 201, Platform: IRC, Conversation: "x"}, {ID: 202, Platform: IRC, Conversation: "y"},
			{ID: 203, Platform: IRC, Conversation: "x"}, {ID: 204, Platform: IRC, Conversation: "y"}})
		synctest.Wait()
		s.mu.Lock()
		if s.inFlight["x"] != 1 || s.inFlight["y"] != 1 {
			t.Errorf("sends under way: x %d, y %d; want one each", s.inFlight["x"], s.inFlight["y"])
		}
		close(s.hold)
		s.mu.Unlock()
		synctest.Wait()
		s.mu.Lock()
		defer s.mu.Unlock()
		if len(s.got) != 204 {
			t.Errorf("%d of 204 sent after the hold", len(s.got))
		}
	})
}
