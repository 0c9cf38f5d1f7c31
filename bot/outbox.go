package bot

import (
	"context"
	"errors"
	"hash/fnv"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// Sender delivers a message on one platform. It must be idempotent for the same
// Outgoing.ID (Matrix uses it as the transaction ID), because a crash between sending
// and forgetting the row sends it again.
type Sender interface {
	Send(ctx context.Context, o Outgoing) error
}

// lanes send in parallel while keeping each conversation's messages in order: a
// conversation always hashes to the same lane. This is the default number per
// platform; a Sender may ask for another (LaneCounter).
const lanes = 8

// LaneCounter is a Sender that wants its own number of lanes, and of messages waiting
// in each (more wait in the database). IRC wants many: a send there waits for the
// server to confirm its lines, which the flood limit may hold back for seconds, so with
// few lanes most people would wait for a lane rather than for the flood limit.
type LaneCounter interface {
	Lanes() (lanes, depth int)
}

// maxAttempts before a message is given up (logged without content, then dropped).
const maxAttempts = 12

// Outbox delivers queued messages. Messages committed by the core are pushed to it
// directly; on start, and every poll, it also picks up rows left by a previous run.
type Outbox struct {
	store   Store
	senders map[Platform]Sender
	log     zerolog.Logger

	mu       sync.Mutex
	inflight map[int64]bool
	// Each platform has lanes of its own, so a slow platform (a page retrying a
	// failing phone service) never holds up another's messages.
	lanes   map[Platform][]chan Outgoing
	wake    chan struct{}
	started bool
}

// NewOutbox makes an outbox; call Register for each platform, then Run.
func NewOutbox(store Store, log zerolog.Logger) *Outbox {
	o := &Outbox{store: store, senders: map[Platform]Sender{}, log: log, inflight: map[int64]bool{}, wake: make(chan struct{}, 1)}
	o.lanes = map[Platform][]chan Outgoing{}
	return o
}

// Register sets the sender of a platform; call it before Run. Messages for a platform without a sender
// wait in the database.
func (o *Outbox) Register(p Platform, s Sender) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.senders[p] = s
	if o.lanes[p] == nil {
		n, depth := lanes, 1024
		if lc, ok := s.(LaneCounter); ok {
			n, depth = lc.Lanes()
		}
		ls := make([]chan Outgoing, max(n, 1))
		for i := range ls {
			ls[i] = make(chan Outgoing, max(depth, 1))
		}
		o.lanes[p] = ls
	}
}

// Push hands freshly committed messages to the lanes.
func (o *Outbox) Push(msgs []Outgoing) {
	if o == nil || len(msgs) == 0 {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.started {
		return // Run will find them in the database
	}
	for _, m := range msgs {
		o.dispatchLocked(m)
	}
}

func (o *Outbox) dispatchLocked(m Outgoing) {
	if o.inflight[m.ID] || o.senders[m.Platform] == nil {
		return
	}
	select {
	case o.lanes[m.Platform][laneOf(m, len(o.lanes[m.Platform]))] <- m:
		o.inflight[m.ID] = true
	default:
		// The lane is full; the row stays in the database and the next poll takes it.
	}
}

func laneOf(m Outgoing, n int) int {
	h := fnv.New32a()
	h.Write([]byte(m.Platform))
	h.Write([]byte(m.Conversation))
	return int(h.Sum32() % uint32(n))
}

// Run delivers until ctx ends.
func (o *Outbox) Run(ctx context.Context, poll time.Duration) {
	var wg sync.WaitGroup
	o.mu.Lock()
	for _, ls := range o.lanes {
		for i := range ls {
			wg.Add(1)
			go func(ch chan Outgoing) {
				defer wg.Done()
				o.lane(ctx, ch)
			}(ls[i])
		}
	}
	o.started = true
	o.mu.Unlock()
	for {
		o.poll(ctx)
		select {
		case <-ctx.Done():
			wg.Wait()
			return
		case <-o.wake:
		case <-time.After(poll):
		}
	}
}

// Kick makes Run look at the database now (after a bridge reconnects, say).
func (o *Outbox) Kick() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

func (o *Outbox) poll(ctx context.Context) {
	o.mu.Lock()
	platforms := make([]Platform, 0, len(o.senders))
	for p := range o.senders {
		platforms = append(platforms, p)
	}
	o.mu.Unlock()
	for _, p := range platforms {
		var after int64
		for {
			rows, err := o.store.PendingOutbox(ctx, p, after, 500)
			if err != nil {
				if ctx.Err() == nil {
					o.log.Err(err).Msg("Reading the outbox failed; will retry")
				}
				return
			}
			o.mu.Lock()
			for _, m := range rows {
				o.dispatchLocked(m)
				after = m.ID
			}
			o.mu.Unlock()
			if len(rows) < 500 {
				break
			}
		}
	}
}

func (o *Outbox) lane(ctx context.Context, ch chan Outgoing) {
	for {
		select {
		case <-ctx.Done():
			return
		case m := <-ch:
			o.deliver(ctx, m)
			o.mu.Lock()
			delete(o.inflight, m.ID)
			o.mu.Unlock()
		}
	}
}

// deliver sends one message, retrying with backoff; the lane waits, so the
// conversation's later messages never overtake it.
func (o *Outbox) deliver(ctx context.Context, m Outgoing) {
	o.mu.Lock()
	sender := o.senders[m.Platform]
	o.mu.Unlock()
	backoff := 250 * time.Millisecond
	attempt := m.Attempts
	for {
		err := sender.Send(ctx, m)
		if err == nil {
			if err := o.store.OutboxSent(ctx, m.ID); err != nil && ctx.Err() == nil {
				o.log.Err(err).Int64("outbox_id", m.ID).Msg("Could not mark a sent message; it may be sent again")
			}
			return
		}
		if ctx.Err() != nil {
			return
		}
		if errors.Is(err, ErrRecipientAway) {
			return // stays queued; the lane moves on to other conversations
		}
		log := o.log.Warn().Err(err).Int64("outbox_id", m.ID).Str("platform", string(m.Platform))
		if !errors.Is(err, ErrUnavailable) {
			// Only failures that are the message's own fault count towards giving up;
			// a platform that is down gets the message whenever it is back.
			attempt++
			_ = o.store.OutboxFailed(ctx, m.ID)
			if errors.Is(err, ErrPermanent) || attempt >= maxAttempts {
				log.Int("attempts", attempt).Msg("Giving up on a message")
				_ = o.store.OutboxSent(ctx, m.ID)
				return
			}
		}
		log.Int("attempts", attempt).Dur("retry_in", backoff).Msg("Sending failed; retrying")
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 30*time.Second)
	}
}
