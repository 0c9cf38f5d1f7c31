package bot

import (
	"context"
	"time"
)

// routeSweepLimit bounds how many waiting cases one sweep tries, oldest first; a case
// nobody can take (a language nobody on duty speaks) must not keep younger ones from
// being tried, so it is larger than a turn's routeSweep.
const routeSweepLimit = 100

// RouteWaiting offers waiting cases, oldest first, to whoever fits now. Routing runs
// when something happens to a case (it is queued, declined, its offer expires) or a
// volunteer changes their duty, but a shift that begins and a case that closes and frees
// a place are no events: without this sweep, a case queued while nobody fitted waited
// until some volunteer typed a duty command (found by `switchboard simulate`).
func (s *Service) RouteWaiting(ctx context.Context) error {
	if s.cfg.Broadcast {
		return nil // announced once when queued; volunteers pick from the room
	}
	return s.inTurn(ctx, "bot", func(t *turn) error { return t.routeWaiting(routeSweepLimit) })
}

// RunRouting sweeps the queue every period until ctx ends.
func (s *Service) RunRouting(ctx context.Context, every time.Duration) {
	for {
		if err := s.RouteWaiting(ctx); err != nil && ctx.Err() == nil {
			s.log.Err(err).Msg("Offering waiting cases failed; will retry")
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(every):
		}
	}
}
