package app

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"switchboard/config"
	"switchboard/metrics"
	"switchboard/store"
)

// ops is the operations side of a running bot: its metrics, and the role and store
// that /readyz and the database metrics read.
type ops struct {
	m     *metrics.Metrics
	role  atomic.Value // metrics.Role
	store atomic.Pointer[store.Store]
}

// startOps makes the metrics and, when metrics.listen is set, opens the listener at
// once: /healthz answers while the bot still waits for its database.
func startOps(ctx context.Context, cfg *config.Config, o *options, log zerolog.Logger) (*ops, error) {
	m := o.metrics
	if m == nil {
		v := o.version
		if v == "" {
			v = "dev"
		}
		m = metrics.New(v)
	}
	p := &ops{m: m}
	p.role.Store(metrics.RoleStarting)
	m.SetSource(func(ctx context.Context) (store.Snapshot, error) {
		st := p.store.Load()
		if st == nil {
			return store.Snapshot{}, errors.New("no database yet")
		}
		return st.Metrics(ctx, time.Now())
	}, func() bool { return p.role.Load() == metrics.RoleLeader })
	if cfg.Metrics.Listen == "" {
		return p, nil
	}
	h := metrics.Health{
		Role: func() metrics.Role { return p.role.Load().(metrics.Role) },
		Database: func(ctx context.Context) error {
			st := p.store.Load()
			if st == nil {
				return errors.New("not connected yet")
			}
			return st.DB.PingContext(ctx)
		},
	}
	addr, err := metrics.Serve(ctx, cfg.Metrics.Listen, m.Handler(h, log), log)
	if err != nil {
		return nil, err
	}
	log.Info().Stringer("addr", addr).Msg("Metrics and health listener open")
	return p, nil
}

func (p *ops) storeOpened(st *store.Store) { p.store.Store(st) }

// leading marks this process as the one that syncs, sends and runs timers.
func (p *ops) leading(epoch int64) {
	p.role.Store(metrics.RoleLeader)
	p.m.SetLeader(true, epoch)
}
