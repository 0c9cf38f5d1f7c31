package bot

import (
	"context"
	"time"
)

// timerBatch bounds one transaction's work so a backlog after downtime drains in steps.
const timerBatch = 50

// RunTimers fires due timers until ctx ends. It sleeps until the next timer is due,
// at most poll, so timers added by other processes are noticed too.
func (s *Service) RunTimers(ctx context.Context, poll time.Duration) {
	for {
		n, err := s.FireDueTimers(ctx)
		if err != nil && ctx.Err() == nil {
			s.log.Err(err).Msg("Firing timers failed; will retry")
		}
		wait := poll
		if n == timerBatch {
			wait = 0
		} else if next, err := s.store.NextTimer(ctx); err == nil && !next.IsZero() {
			if d := next.Sub(s.now()); d < wait {
				wait = max(d, 10*time.Millisecond)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		case <-s.timerWake:
		}
	}
}

// FireDueTimers acts on every timer due at s.now() in one transaction and returns how
// many fired. A timer is deleted in the same transaction as its effect, so it fires
// exactly once even across a crash.
func (s *Service) FireDueTimers(ctx context.Context) (int, error) {
	var queued []Outgoing
	fired := 0
	err := s.store.InTx(ctx, func(tx Tx) error {
		queued, fired = queued[:0], 0
		now := s.now()
		due, err := tx.DueTimers(ctx, now, timerBatch)
		if err != nil {
			return err
		}
		for _, tm := range due {
			// Deleted first, in the same transaction: a timer that re-arms itself while
			// firing (paging, reassurance) keeps its new due time.
			if err := tx.DeleteTimer(ctx, tm.Kind, tm.Subject); err != nil {
				return err
			}
			if err := s.fire(ctx, tx, tm, now, &queued); err != nil {
				return err
			}
			fired++
		}
		return storeOutgoing(ctx, tx, queued)
	})
	if err != nil {
		return 0, err
	}
	s.outbox.Push(queued)
	return fired, nil
}

func (s *Service) fire(ctx context.Context, tx Tx, tm Timer, now time.Time, queued *[]Outgoing) (err error) {
	defer wrapf(&err, "fire %s timer for %d", tm.Kind, tm.Subject)
	switch tm.Kind {
	case TimerIntakeExpiry:
		ik, err := tx.Intake(ctx, tm.Subject)
		if err != nil || ik == nil || ik.Status != IntakeOpen {
			return err
		}
		if due := ik.UpdatedAt.Add(s.cfg.IntakeExpiry); due.After(now) {
			return tx.SetTimer(ctx, Timer{Kind: TimerIntakeExpiry, Subject: ik.ID, Due: due})
		}
		p, err := tx.PersonByID(ctx, ik.PersonID)
		if err != nil {
			return err
		}
		t := &turn{s: s, tx: tx, ctx: ctx, person: p, platform: p.Platform, conv: ik.Conversation, now: now, queued: queued}
		return t.expireIntake(ik)
	case TimerPageAck:
		t := &turn{s: s, tx: tx, ctx: ctx, now: now, queued: queued, sender: "bot"}
		return t.pageNext(tm.Subject)
	case TimerOfferExpiry, TimerQueueAlert, TimerReassure:
		t := &turn{s: s, tx: tx, ctx: ctx, now: now, queued: queued, sender: "bot"}
		return t.fireRouting(tm)
	}
	s.log.Warn().Str("kind", string(tm.Kind)).Msg("Unknown timer kind dropped")
	return nil
}

// dedupWindow is how long processed event IDs are kept: a redelivery after a restart
// is minutes old, never weeks.
const dedupWindow = 30 * 24 * time.Hour

// purgeEvery is how often RunPurge runs: undelivered messages also expire when the
// outbox next tries them, so this only bounds how long they lie in the database.
const purgeEvery = 6 * time.Hour

// RunPurge forgets what the service no longer needs, once now and then every few hours.
func (s *Service) RunPurge(ctx context.Context) {
	for {
		if n, err := s.Purge(ctx); err != nil && ctx.Err() == nil {
			s.log.Err(err).Msg("Purging old content failed; will retry")
		} else if n > 0 {
			s.log.Info().Int("cases", n).Msg("Forgot the content of old cases")
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(purgeEvery):
		}
	}
}

// Purge forgets what the configuration says the service no longer needs (see
// PurgeBefore), now, and reports how many cases it emptied.
func (s *Service) Purge(ctx context.Context) (int, error) {
	now := s.now()
	before := PurgeBefore{Dedup: now.Add(-dedupWindow)}
	if s.cfg.Retention > 0 {
		before.Content = now.Add(-s.cfg.Retention)
	}
	if s.cfg.MessageExpiry > 0 {
		before.Messages = now.Add(-s.cfg.MessageExpiry)
	}
	n, err := s.store.Purge(ctx, before)
	if n > 0 && s.outbox != nil {
		s.outbox.Kick() // the rooms of the emptied cases are left now, not at the next poll
	}
	return n, err
}
