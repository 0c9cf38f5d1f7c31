// Package matrix connects Switchboard to Matrix with mautrix-go: it logs in once and
// keeps its device, encrypts end to end through cryptohelper (its store in the same
// PostgreSQL), cross-signs its own device, turns room events into bot.Inbound values
// and sends the outbox. It holds no help-desk logic.
package matrix

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/crypto/cryptohelper"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"switchboard/bot"
	"switchboard/i18n"
	"switchboard/store"
)

// Config is what the bridge needs from the configuration.
type Config struct {
	HomeserverURL string
	UserID        id.UserID
	Password      string
	AccessToken   string
	DeviceName    string
	DisplayName   string
	PickleKey     []byte
	// Rooms the bot stays in although they are not DMs (the staff room among them).
	AllowedRooms []id.RoomID
	// Language for the few notices the bridge sends on its own (leaving a group room).
	DefaultLanguage string
	// Synced, when set, is called after each /sync batch is fully handled (for the
	// sync-lag metric and readiness).
	Synced func()
	// AnyDevice turns device trust off (encryption.device-trust: any): every device
	// gets keys and every encrypted event counts as from a verified device.
	AnyDevice bool
}

// Bridge is the Matrix side of the bot.
type Bridge struct {
	cfg     Config
	cli     *mautrix.Client
	helper  *cryptohelper.CryptoHelper
	crypto  *keyGate // helper, with the rooms' key policies
	syncer  *syncer
	pending *pending
	store   *store.Store
	svc     *bot.Service
	cat     *i18n.Catalogue
	log     zerolog.Logger

	joinMu sync.Mutex
	joined map[id.RoomID]bool // joined, or handed to joins
	joins  *joiner
	// encrypted caches rooms known to be encrypted (it never changes back).
	encrypted sync.Map
}

// New logs in (retrying while the homeserver is unreachable), sets up encryption and
// cross-signing, and registers the event handlers. It does not start syncing.
func New(ctx context.Context, cfg Config, st *store.Store, svc *bot.Service, cat *i18n.Catalogue, log zerolog.Logger) (*Bridge, error) {
	cli, err := mautrix.NewClient(cfg.HomeserverURL, cfg.UserID, "")
	if err != nil {
		return nil, err
	}
	// mautrix logs request bodies at debug level (a login carries the password), so its
	// own logger never goes below info whatever the bot's level.
	cli.Log = log.With().Str("component", "mautrix").Logger().Level(max(log.GetLevel(), zerolog.InfoLevel))
	b := &Bridge{cfg: cfg, cli: cli, store: st, svc: svc, cat: cat, log: log, joined: map[id.RoomID]bool{}, pending: newPending(st)}
	b.syncer = newSyncer(st, cfg.UserID.String(), log)
	b.syncer.synced = cfg.Synced
	b.joins = newJoiner(b)
	cli.Syncer = b.syncer
	cli.Store = b.syncer // our SyncStore: the position moves only after processing

	if err := retryNet(ctx, log, "log in", func() error { return b.login(ctx) }); err != nil {
		return nil, err
	}
	b.helper, err = cryptohelper.NewCryptoHelper(cli, cfg.PickleKey, st.Dbutil)
	if err != nil {
		return nil, err
	}
	b.helper.DBAccountID = cfg.UserID.String()
	b.helper.DecryptErrorCallback = b.onDecryptError
	if err := retryNet(ctx, log, "set up encryption", func() error { return b.helper.Init(ctx) }); err != nil {
		return nil, err
	}
	b.crypto = newKeyGate(b.helper, b)
	cli.Crypto = b.crypto
	if err := retryNet(ctx, log, "cross-sign", func() error { return b.crossSign(ctx) }); err != nil {
		// The bot still works; Element just shows its device as not verified.
		log.Err(err).Msg("Cross-signing failed; the bot's messages will show as unverified")
	}
	if cfg.DisplayName != "" {
		if err := cli.SetDisplayName(ctx, cfg.DisplayName); err != nil {
			log.Warn().Err(err).Msg("Could not set the display name")
		}
	}
	b.syncer.OnEventType(event.StateMember, b.onMember)
	b.syncer.OnEventType(event.EventMessage, b.onMessage)
	b.syncer.OnEventType(event.EventReaction, b.onReaction)
	b.syncer.OnEventType(event.EventRedaction, b.onRedaction)
	// Runs after cryptohelper's own handler, which decrypts synchronously when it can.
	b.syncer.OnEventType(event.EventEncrypted, b.afterEncrypted)
	return b, nil
}

// UserID is the bot's Matrix ID.
func (b *Bridge) UserID() id.UserID { return b.cli.UserID }

// DeviceID is the bot's (persistent) device.
func (b *Bridge) DeviceID() id.DeviceID { return b.cli.DeviceID }

// Run syncs until ctx ends, reconnecting with backoff when the homeserver is away.
func (b *Bridge) Run(ctx context.Context) error {
	b.retryPending(ctx)
	ctx, stop := context.WithCancel(ctx)
	joining := make(chan struct{})
	go func() { b.joins.run(ctx); close(joining) }()
	defer func() { stop(); <-joining }() // nothing touches the store after Run
	backoff := time.Second
	for {
		start := time.Now()
		err := b.cli.SyncWithContext(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if errors.Is(err, mautrix.MUnknownToken) {
			return fmt.Errorf("the homeserver no longer accepts the bot's access token: %w", err)
		}
		if time.Since(start) > time.Minute {
			backoff = time.Second
		}
		b.log.Warn().Err(err).Dur("retry_in", backoff).Msg("Sync stopped; starting again from the last processed position")
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 30*time.Second)
	}
}

// retryNet retries a start-up step while the homeserver cannot be reached, and gives
// up at once on an answer that says the configuration is wrong.
func retryNet(ctx context.Context, log zerolog.Logger, what string, op func() error) error {
	backoff := time.Second
	for {
		err := op()
		if err == nil {
			return nil
		}
		if st := httpStatus(err); st >= 400 && st < 500 && st != 429 {
			return fmt.Errorf("%s: %w", what, err)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		log.Warn().Err(err).Str("step", what).Dur("retry_in", backoff).Msg("Homeserver unavailable; retrying")
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 30*time.Second)
	}
}

// httpStatus is the HTTP status of a failed request, or 0 when no answer came.
func httpStatus(err error) int {
	var httpErr mautrix.HTTPError
	if errors.As(err, &httpErr) && httpErr.Response != nil {
		return httpErr.Response.StatusCode
	}
	return 0
}
