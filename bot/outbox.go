package bot

import (
	"context"
	"errors"
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

// defaultParallel bounds how many messages of one platform are being sent at once;
// a Sender may ask for another bound (Paralleler).
const defaultParallel = 8

// maxQueued bounds the messages of one platform held in memory; more wait in the
// database for the next poll.
const maxQueued = 4096

// Paralleler is a Sender that wants another bound on sends at once. IRC wants a high
// one: a send there holds on until the server confirms its lines, which the flood
// limit may delay for seconds, and the sends waiting for it must not keep other
// people's first lines from the flood queue, where they take turns.
type Paralleler interface {
	Parallel() int
}

// maxAttempts before a message is given up (logged without content, then dropped).
const maxAttempts = 12

// Outbox delivers queued messages. Messages committed by the core are pushed to it
// directly; on start, and every poll, it also picks up rows left by a previous run.
//
// Each conversation's messages are sent one at a time, in order, by a worker that
// lives while the conversation has messages waiting; conversations go in parallel, up
// to the platform's bound. (Fixed lanes, a conversation hashed to one, made two
// conversations on the same lane wait for each other: on IRC, one person's first line
// for another's whole answer.) Each platform has its own workers and bound, so a slow
// platform (a page retrying a failing phone service) never holds up another's messages.
type Outbox struct {
	store   Store
	senders map[Platform]Sender
	log     zerolog.Logger

	mu       sync.Mutex
	inflight map[int64]bool
	queues   map[Platform]*platformQueue
	wake     chan struct{}
	started  bool
	ctx      context.Context // Run's, for the workers
	workers  sync.WaitGroup
	// expiry: a message not delivered this long after it was written is dropped
	// (0: never). Read by the workers, set before Run.
	expiry time.Duration
}

// platformQueue is one platform's conversations with messages in memory.
type platformQueue struct {
	sender Sender
	convs  map[string][]Outgoing // a conversation is here while its worker runs
	slots  chan struct{}         // one per send under way
	queued int
}

// NewOutbox makes an outbox; call Register for each platform, then Run.
func NewOutbox(store Store, log zerolog.Logger) *Outbox {
	return &Outbox{store: store, senders: map[Platform]Sender{}, log: log, inflight: map[int64]bool{},
		queues: map[Platform]*platformQueue{}, wake: make(chan struct{}, 1)}
}

// Register sets the sender of a platform; call it before Run. Messages for a platform without a sender
// wait in the database.
func (o *Outbox) Register(p Platform, s Sender) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.senders[p] = s
	n := defaultParallel
	if pp, ok := s.(Paralleler); ok {
		n = max(pp.Parallel(), 1)
	}
	o.queues[p] = &platformQueue{sender: s, convs: map[string][]Outgoing{}, slots: make(chan struct{}, n)}
}

// ExpireAfter drops messages (Action.Expires) not delivered within d of being written,
// instead of sending them: on IRC a requester away for long may no longer hold their
// nick or account, and whoever holds it now must not read what was meant for them.
// Call it before Run.
func (o *Outbox) ExpireAfter(d time.Duration) { o.expiry = d }

// expired reports whether m is too old to be delivered now.
func (o *Outbox) expired(m Outgoing) bool {
	return o.expiry > 0 && m.Action.Expires() && !m.CreatedAt.IsZero() && time.Since(m.CreatedAt) > o.expiry
}

// Push hands freshly committed messages to the workers.
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
	pq := o.queues[m.Platform]
	if o.inflight[m.ID] || pq == nil || pq.queued >= maxQueued || o.ctx.Err() != nil {
		return // already under way, no sender, or memory full: the row stays in the database
	}
	o.inflight[m.ID] = true
	pq.queued++
	waiting, running := pq.convs[m.Conversation]
	pq.convs[m.Conversation] = append(waiting, m)
	if !running {
		o.workers.Add(1)
		go o.work(pq, m.Conversation)
	}
}

// work sends a conversation's messages in order until none is left.
func (o *Outbox) work(pq *platformQueue, conv string) {
	defer o.workers.Done()
	ctx := o.ctx
	for {
		o.mu.Lock()
		waiting := pq.convs[conv]
		if len(waiting) == 0 || ctx.Err() != nil {
			delete(pq.convs, conv)
			o.mu.Unlock()
			return
		}
		m := waiting[0]
		waiting[0] = Outgoing{}
		pq.convs[conv] = waiting[1:]
		o.mu.Unlock()
		select {
		case pq.slots <- struct{}{}:
			o.deliver(ctx, m)
			<-pq.slots
		case <-ctx.Done():
		}
		o.mu.Lock()
		delete(o.inflight, m.ID)
		pq.queued--
		o.mu.Unlock()
	}
}

// Run delivers until ctx ends.
func (o *Outbox) Run(ctx context.Context, poll time.Duration) {
	o.mu.Lock()
	o.ctx = ctx
	o.started = true
	o.mu.Unlock()
	for {
		o.poll(ctx)
		select {
		case <-ctx.Done():
			o.workers.Wait()
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

// deliver sends one message, retrying with backoff; the worker waits, so the
// conversation's later messages never overtake it.
func (o *Outbox) deliver(ctx context.Context, m Outgoing) {
	o.mu.Lock()
	sender := o.senders[m.Platform]
	o.mu.Unlock()
	backoff := 250 * time.Millisecond
	attempt := m.Attempts
	for {
		if o.expired(m) {
			o.log.Info().Int64("outbox_id", m.ID).Str("platform", string(m.Platform)).Dur("expiry", o.expiry).
				Msg("Dropped a message not delivered within the message expiry")
			if err := o.store.OutboxSent(ctx, m.ID); err != nil && ctx.Err() == nil {
				o.log.Err(err).Int64("outbox_id", m.ID).Msg("Could not drop an expired message; it is dropped at the next try")
			}
			return
		}
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
			return // stays queued in the database; the worker moves on
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
