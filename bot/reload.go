package bot

import (
	"sync/atomic"
	"time"
)

// Live is the share of the core's configuration that a reload (SIGHUP) replaces
// while the bot runs: who is staff or coordinator, and the on-call chain. It is
// swapped whole, so a turn never sees half of an old and half of a new one.
type Live struct {
	Staff          []string
	Coordinators   []string
	OnCall         []string
	RotationStart  time.Time
	RotationPeriod time.Duration
	AckTimeout     time.Duration
	MaxRounds      int
	RepageEvery    time.Duration
	Pager          bool
}

// LiveOf is the reloadable part of cfg.
func LiveOf(cfg Config) Live {
	return Live{Staff: cfg.Staff, Coordinators: cfg.Coordinators, OnCall: cfg.OnCall, RotationStart: cfg.RotationStart,
		RotationPeriod: cfg.RotationPeriod, AckTimeout: cfg.AckTimeout, MaxRounds: cfg.MaxRounds, RepageEvery: cfg.RepageEvery, Pager: cfg.Pager}
}

// liveConfig holds the current Live; the zero value reads as the Service's cfg.
type liveConfig struct{ p atomic.Pointer[Live] }

// Reload makes l the roles and on-call chain from the next turn on. Paging already
// under way continues with the new chain at its next step.
func (s *Service) Reload(l Live) { s.liveCfg.p.Store(&l) }

// live is the reloadable configuration in force now.
func (s *Service) live() *Live {
	if l := s.liveCfg.p.Load(); l != nil {
		return l
	}
	l := LiveOf(s.cfg)
	s.liveCfg.p.CompareAndSwap(nil, &l)
	return s.liveCfg.p.Load()
}
