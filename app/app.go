// Package app wires Switchboard's parts together and runs them: the store, the core,
// the outbox and timers, and the Matrix bridge. main calls it after reading the
// configuration; end-to-end tests call it in-process.
package app

import (
	"context"
	"errors"
	"os"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/id"

	"switchboard/bot"
	"switchboard/bridges/matrix"
	"switchboard/config"
	"switchboard/i18n"
	"switchboard/metrics"
	"switchboard/store"
)

// Failure classes, each with its own exit code in main.
var (
	ErrInternal = errors.New("internal error")
	ErrDatabase = errors.New("database error")
	ErrMatrix   = errors.New("matrix error")
)

// Option adjusts a Run.
type Option func(*options)

type options struct {
	ready   func()
	version string
	metrics *metrics.Metrics
	reload  func() (*config.Config, error)
}

// OnReady calls f once the bot has logged in, set up encryption and starts syncing.
func OnReady(f func()) Option { return func(o *options) { o.ready = f } }

// ReloadFrom makes SIGHUP re-read the configuration with load and apply what can
// change while running (see reload.go).
func ReloadFrom(load func() (*config.Config, error)) Option {
	return func(o *options) { o.reload = load }
}

// Version is the build's version, for switchboard_build_info.
func Version(v string) Option { return func(o *options) { o.version = v } }

// WithMetrics makes Run count into m (tests read it) instead of metrics of its own.
func WithMetrics(m *metrics.Metrics) Option { return func(o *options) { o.metrics = m } }

// Run serves until ctx ends. It returns nil on a clean stop.
func Run(ctx context.Context, cfg *config.Config, log zerolog.Logger, opts ...Option) error {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	// Asked for before anything slow: SIGHUP's default action ends the process.
	hup := watchHUP(o.reload != nil)
	defer stopHUP(hup)
	cat, err := i18n.Load()
	if err != nil {
		log.Err(err).Msg("Message catalogue is broken")
		return ErrInternal
	}
	dataKey, err := cfg.Encryption.ResolveDataKey()
	if err != nil {
		log.Err(err).Msg("Cannot read the data key")
		return ErrInternal
	}
	ops, err := startOps(ctx, cfg, &o, log)
	if err != nil {
		log.Err(err).Msg("Cannot open the metrics listener")
		return ErrInternal
	}
	m := ops.m
	holder := holderID()
	st, err := store.Open(ctx, store.WithAppName(cfg.Database.URL, store.AppName(holder)), store.Options{
		MaxOpenConns: cfg.Database.MaxOpenConns, MaxIdleConns: cfg.Database.MaxIdleConns, OnRetry: m.DBRetry,
		DataKey: dataKey, RetiredDataKeys: cfg.Encryption.RetiredDataKeys,
	}, log.With().Str("component", "store").Logger())
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		log.Err(err).Msg("Cannot use the database")
		return ErrDatabase
	}
	defer st.Close()
	ops.storeOpened(st)
	// One leader among replicas: from here on every write checks the lease.
	lease := st.NewLease(holder, cfg.HA.Lease.D())
	st.SetFence(lease)
	if err := waitForLease(ctx, lease, ops, log.With().Str("component", "lease").Logger()); err != nil {
		return nil // stopped while standing by
	}
	defer func() {
		rctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		lease.Release(rctx)
	}()
	ctx, stopLeading := context.WithCancel(ctx)
	defer stopLeading()
	var lost atomic.Bool
	go keepLease(ctx, lease, cfg.HA.Lease.D(), func() {
		lost.Store(true)
		stopLeading()
		// Stopping must not wait on anything that wants the database it may no
		// longer use; the supervisor starts the process again as a standby.
		time.AfterFunc(15*time.Second, func() { os.Exit(14) })
	}, log.With().Str("component", "lease").Logger())

	outbox := bot.NewOutbox(st, log.With().Str("component", "outbox").Logger())
	outbox.ExpireAfter(cfg.Service.MessageExpiry.D())
	allowed := make([]id.RoomID, 0, len(cfg.Service.AllowedRooms)+1)
	for _, r := range cfg.Service.AllowedRooms {
		allowed = append(allowed, id.RoomID(r))
	}
	if cfg.Service.Routing.VolunteersRoom != "" {
		allowed = append(allowed, id.RoomID(cfg.Service.Routing.VolunteersRoom))
	}
	if cfg.Service.CoordinatorsRoom != "" {
		allowed = append(allowed, id.RoomID(cfg.Service.CoordinatorsRoom))
	}
	if cfg.Service.StaffRoom != "" {
		allowed = append(allowed, id.RoomID(cfg.Service.StaffRoom))
	} else {
		log.Warn().Msg("service.staff-room is not set: staff will not be told of staff-route requests")
	}
	svc := bot.NewService(st, cat, cfg.Core(), outbox, log.With().Str("component", "core").Logger(), nil)
	pg, err := startPager(ctx, cfg, svc, outbox, cat, m, log)
	if err != nil {
		log.Err(err).Msg("Cannot set up the pager")
		return ErrInternal
	}

	mx, err := matrix.New(ctx, matrix.Config{
		HomeserverURL: cfg.Homeserver.URL, UserID: id.UserID(cfg.Bot.UserID), Password: cfg.Bot.Password,
		AccessToken: cfg.Bot.AccessToken, DeviceName: cfg.Bot.DeviceName, DisplayName: cfg.Bot.DisplayName,
		PickleKey: []byte(cfg.Encryption.PickleKey), AllowedRooms: allowed, DefaultLanguage: cfg.Service.DefaultLanguage,
		Synced:    m.Synced,
		AnyDevice: cfg.Encryption.DeviceTrust == config.TrustAny,
	}, st, svc, cat, log.With().Str("component", "matrix").Logger())
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		log.Err(err).Msg("Cannot connect to Matrix")
		return ErrMatrix
	}
	outbox.Register(bot.Matrix, m.Sender(bot.Matrix, mx))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	waitIRC := startIRC(ctx, cfg, svc, outbox, cat, m, log)
	done := make(chan struct{}, 2)
	go func() { outbox.Run(ctx, 5*time.Second); done <- struct{}{} }()
	go func() { svc.RunTimers(ctx, 30*time.Second); done <- struct{}{} }()
	go svc.RunWaitlist(ctx, time.Second)
	go svc.RunRouting(ctx, time.Minute)
	go svc.RunPurge(ctx)
	go reloadOnHUP(ctx, hup, o.reload, cfg, svc, pg, m, log)
	ops.leading(lease.Epoch())
	log.Info().Stringer("user_id", mx.UserID()).Stringer("device_id", mx.DeviceID()).Msg("Switchboard is running")
	if o.ready != nil {
		o.ready()
	}
	err = mx.Run(ctx)
	cancel()
	<-done
	<-done
	waitIRC()
	if lost.Load() {
		return ErrLeadership
	}
	if err != nil {
		log.Err(err).Msg("Matrix connection ended")
		return ErrMatrix
	}
	log.Info().Msg("Stopped")
	return nil
}
