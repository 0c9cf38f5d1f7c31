package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/rs/zerolog"

	"switchboard/metrics"
	"switchboard/store"
)

// ErrLeadership: this replica lost the lease and stopped (exit code 14); its
// supervisor starts it again, as a standby.
var ErrLeadership = errors.New("lost the leadership")

// holderID names this process in the lease and in its database sessions.
func holderID() string {
	host, _ := os.Hostname()
	if len(host) > 32 {
		host = host[:32]
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
}

// waitForLease stands by until this replica holds the lease (or ctx ends). A
// standby asks once a second: a dead leader's lock is gone at once, a frozen
// leader's lease runs out after ha.lease.
func waitForLease(ctx context.Context, lease *store.Lease, p *ops, log zerolog.Logger) error {
	start := time.Now()
	said := false
	for {
		ok, prev, err := lease.TryAcquire(ctx)
		switch {
		case ok:
			ev := log.Info().Int64("epoch", lease.Epoch()).Str("previous", prev)
			if said {
				ev = ev.Dur("standby_for", time.Since(start))
				p.m.TookOver()
			}
			ev.Msg("Took the lease: this replica is the leader")
			return nil
		case err != nil && ctx.Err() == nil:
			log.Warn().Err(err).Msg("Could not check the lease; trying again")
		case !said && err == nil:
			said = true
			p.standby(lease.Epoch())
			log.Info().Str("leader", prev).Msg("Another replica is the leader; standing by")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// keepLease renews the lease every quarter of its length until ctx ends. When the
// lease is lost (another replica took it, or it ran out while the database could not
// be reached) it calls lost: this replica must stop at once, and writes nothing
// more (the store's fence already refuses).
func keepLease(ctx context.Context, lease *store.Lease, ttl time.Duration, lost func(), log zerolog.Logger) {
	tick := time.NewTicker(ttl / 4)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		rctx, cancel := context.WithTimeout(ctx, ttl/4)
		err := lease.Renew(rctx)
		cancel()
		switch {
		case ctx.Err() != nil:
			return
		case errors.Is(err, store.ErrNotLeader):
			log.Error().Int64("epoch", lease.Epoch()).Msg("Lost the lease; stepping down without writing anything more")
			lost()
			return
		case err != nil:
			log.Warn().Err(err).Msg("Could not renew the lease; trying again until it runs out")
		}
	}
}

func (p *ops) standby(epoch int64) {
	p.role.Store(metrics.RoleStandby)
	p.m.SetLeader(false, epoch)
}
