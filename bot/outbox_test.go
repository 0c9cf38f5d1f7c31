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

// gateSender holds every send until `want` of them are in flight at once.
type gateSender struct {
	lanes    int
	mu       sync.Mutex
	inFlight int
	most     int
	release  chan struct{}
}

func (g *gateSender) Lanes() (int, int) { return g.lanes, 4 }

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

// A sender that holds its lane until the far end confirms (IRC) asks for more lanes,
// so twenty people's messages are all under way at once rather than eight at a time.
func TestOutboxLanesPerSender(t *testing.T) {
	for _, tc := range []struct {
		lanes, want int
	}{{0, lanes}, {64, 20}} {
		st := &memStore{rows: map[int64]Outgoing{}}
		var msgs []Outgoing
		for i := range 20 {
			msgs = append(msgs, Outgoing{ID: int64(i + 1), Platform: IRC, Conversation: string(rune('a' + i))})
		}
		g := &gateSender{lanes: tc.lanes, release: make(chan struct{})}
		o := NewOutbox(st, zerolog.Nop())
		if tc.lanes == 0 {
			o.Register(IRC, struct{ Sender }{g}) // hides Lanes: the default
		} else {
			o.Register(IRC, g)
		}
		ctx, cancel := context.WithCancel(context.Background())
		go o.Run(ctx, time.Hour)
		time.Sleep(20 * time.Millisecond) // Run marks the outbox started
		o.Push(msgs)
		// Distinct conversations may still share a lane, so with 8 lanes at most 8 run.
		waitFor(t, func() bool { g.mu.Lock(); defer g.mu.Unlock(); return g.inFlight >= min(tc.want, 5) })
		time.Sleep(100 * time.Millisecond)
		g.mu.Lock()
		most := g.most
		g.mu.Unlock()
		if tc.lanes == 0 && most > lanes {
			t.Errorf("default: %d sends at once, more than %d lanes", most, lanes)
		}
		if tc.lanes == 64 && most <= lanes {
			t.Errorf("64 lanes: only %d sends at once", most)
		}
		close(g.release)
		cancel()
	}
}
