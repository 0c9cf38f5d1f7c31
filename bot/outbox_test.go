package bot

import (
	"context"
	"sync"
	"testing"
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

func TestOutboxKeepsMessagesForAwayRecipients(t *testing.T) {
	st := &memStore{rows: map[int64]Outgoing{
		1: {ID: 1, Platform: IRC, Conversation: "away"},
		2: {ID: 2, Platform: IRC, Conversation: "here"},
		3: {ID: 3, Platform: IRC, Conversation: "away"},
	}}
	s := &awaySender{away: true}
	o := NewOutbox(st, zerolog.Nop())
	o.Register(IRC, s)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go o.Run(ctx, 50*time.Millisecond)
	waitFor(t, func() bool { s.mu.Lock(); defer s.mu.Unlock(); return len(s.got) == 1 })
	st.mu.Lock()
	if len(st.rows) != 2 {
		t.Errorf("messages for an away recipient must stay queued; %d left", len(st.rows))
	}
	st.mu.Unlock()
	s.mu.Lock()
	s.away = false
	s.mu.Unlock()
	o.Kick()
	waitFor(t, func() bool { s.mu.Lock(); defer s.mu.Unlock(); return len(s.got) == 3 })
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.got[1] != 1 || s.got[2] != 3 {
		t.Errorf("order within a conversation lost: %v", s.got)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 5 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// gateSender holds every send until released, counting how many run at once.
type gateSender struct {
	parallel int
	mu       sync.Mutex
	inFlight int
	most     int
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
	}
	g.mu.Lock()
	g.inFlight--
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
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { o.Run(ctx, time.Hour); close(done) }()
		waitFor(t, func() bool { o.mu.Lock(); defer o.mu.Unlock(); return o.started })
		o.Push(msgs)
		waitFor(t, func() bool { g.mu.Lock(); defer g.mu.Unlock(); return g.inFlight == tc.want })
		time.Sleep(50 * time.Millisecond)
		g.mu.Lock()
		most := g.most
		g.mu.Unlock()
		if most != tc.want {
			t.Errorf("bound %d: %d sends at once, want %d", tc.parallel, most, tc.want)
		}
		close(g.release)
		waitFor(t, func() bool { st.mu.Lock(); defer st.mu.Unlock(); return len(st.rows) == 0 })
		cancel()
		<-done // Run returns only once every worker has
	}
}

// One conversation's messages go one at a time and in order, whatever the bound.
func TestOutboxKeepsOrderWithinAConversation(t *testing.T) {
	st := &memStore{rows: map[int64]Outgoing{}}
	s := &awaySender{}
	o := NewOutbox(st, zerolog.Nop())
	o.Register(IRC, s)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go o.Run(ctx, time.Hour)
	waitFor(t, func() bool { o.mu.Lock(); defer o.mu.Unlock(); return o.started })
	var msgs []Outgoing
	for i := range 200 {
		msgs = append(msgs, Outgoing{ID: int64(i + 1), Platform: IRC, Conversation: []string{"x", "y"}[i%2]})
	}
	for len(msgs) > 0 { // in several pushes, so a worker may end and start again
		n := min(7, len(msgs))
		o.Push(msgs[:n])
		msgs = msgs[n:]
		time.Sleep(time.Millisecond)
	}
	waitFor(t, func() bool { s.mu.Lock(); defer s.mu.Unlock(); return len(s.got) == 200 })
	s.mu.Lock()
	defer s.mu.Unlock()
	last := map[int64]int64{}
	for _, id := range s.got {
		if id <= last[id%2] {
			t.Fatalf("message %d after %d in its conversation", id, last[id%2])
		}
		last[id%2] = id
	}
}
