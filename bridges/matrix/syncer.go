package matrix

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"switchboard/store"
)

// syncer wraps mautrix's DefaultSyncer so that the sync position is saved only after a
// whole batch was processed (mautrix saves it before), and not at all when a handler
// could not finish (the database went away, the bot is stopping): the batch is then
// fetched again and redelivered events are dropped by the processed_events dedup.
type syncer struct {
	*mautrix.DefaultSyncer
	store   *store.Store
	account string
	log     zerolog.Logger
	// incomplete is set by a handler that could not process its event.
	incomplete atomic.Bool
	failures   atomic.Int32

	// handled holds the IDs of events handled during the current batch, so the
	// encrypted-event hook can tell which were decrypted at once.
	handledMu sync.Mutex
	handled   map[id.EventID]bool

	synced func() // may be nil

	// crypto is held by the whole-batch listeners (mautrix's crypto machine is one)
	// while they run, and shared by encryptions (keyGate): see OnSync.
	crypto sync.RWMutex
}

// OnSync registers a whole-batch listener that never runs while an encryption
// does. mautrix v0.32's crypto machine resets its cache of the bot's own
// cross-signing keys when a batch says they changed, and an encryption reads that
// cache, both without a lock (the race detector caught it when a group room was
// left, with a message, as the bot's own keys were fetched). The listeners end
// before the batch's events are dispatched, so a handler that sends does not wait
// for its own batch.
func (s *syncer) OnSync(cb mautrix.SyncHandler) {
	s.DefaultSyncer.OnSync(func(ctx context.Context, res *mautrix.RespSync, since string) bool {
		s.crypto.Lock()
		defer s.crypto.Unlock()
		return cb(ctx, res, since)
	})
}

func (s *syncer) markHandled(evtID id.EventID) {
	s.handledMu.Lock()
	s.handled[evtID] = true
	s.handledMu.Unlock()
}

func (s *syncer) wasHandled(evtID id.EventID) bool {
	s.handledMu.Lock()
	defer s.handledMu.Unlock()
	return s.handled[evtID]
}

var errIncomplete = errors.New("a sync batch was not fully processed")

type initialSyncKey struct{}

func newSyncer(st *store.Store, account string, log zerolog.Logger) *syncer {
	return &syncer{DefaultSyncer: mautrix.NewDefaultSyncer(), store: st, account: account, log: log, handled: map[id.EventID]bool{}}
}

// ProcessResponse handles a batch, then records that it is done.
func (s *syncer) ProcessResponse(ctx context.Context, res *mautrix.RespSync, since string) error {
	s.incomplete.Store(false)
	if since == "" {
		ctx = context.WithValue(ctx, initialSyncKey{}, true)
	}
	err := s.DefaultSyncer.ProcessResponse(ctx, res, since)
	s.handledMu.Lock()
	clear(s.handled)
	s.handledMu.Unlock()
	if err != nil {
		return err
	}
	if s.incomplete.Load() {
		return errIncomplete
	}
	s.failures.Store(0)
	if err := s.store.SaveNextBatch(ctx, s.account, res.NextBatch); err != nil {
		return err
	}
	if s.synced != nil {
		s.synced()
	}
	return nil
}

// isInitialSync is true while the first batch of a fresh database is processed: its
// timeline is history, not new messages.
func isInitialSync(ctx context.Context) bool {
	v, _ := ctx.Value(initialSyncKey{}).(bool)
	return v
}

// OnFailedSync backs off from 1 s to 30 s instead of mautrix's fixed 10 s, so a
// restarted homeserver is noticed quickly.
func (s *syncer) OnFailedSync(_ *mautrix.RespSync, err error) (time.Duration, error) {
	if errors.Is(err, mautrix.MUnknownToken) {
		return 0, err
	}
	n := s.failures.Add(1)
	wait := min(time.Second<<min(n-1, 5), 30*time.Second)
	s.log.Warn().Err(err).Dur("retry_in", wait).Msg("Sync failed")
	return wait, nil
}

// SaveNextBatch is called by mautrix before processing; the real save is above.
func (s *syncer) SaveNextBatch(context.Context, id.UserID, string) error { return nil }

// LoadNextBatch returns the last fully processed position.
func (s *syncer) LoadNextBatch(ctx context.Context, _ id.UserID) (string, error) {
	next, _, err := s.store.SyncPosition(ctx, s.account)
	return next, err
}

// SaveFilterID stores the sync filter.
func (s *syncer) SaveFilterID(ctx context.Context, _ id.UserID, filterID string) error {
	return s.store.SaveFilterID(ctx, s.account, filterID)
}

// LoadFilterID loads the sync filter.
func (s *syncer) LoadFilterID(ctx context.Context, _ id.UserID) (string, error) {
	_, filter, err := s.store.SyncPosition(ctx, s.account)
	return filter, err
}
