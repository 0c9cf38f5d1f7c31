package store

import (
	"context"
	"database/sql"
	"time"

	"switchboard/bot"
)

// SetTimer arms a timer, moving it if it was armed already.
func (t *Tx) SetTimer(ctx context.Context, tm bot.Timer) (err error) {
	defer wrap(&err, "set %s timer for %d", tm.Kind, tm.Subject)
	_, err = t.tx.ExecContext(ctx, `INSERT INTO timers (kind, subject, due_at) VALUES ($1, $2, $3)
		ON CONFLICT (kind, subject) DO UPDATE SET due_at = EXCLUDED.due_at`, tm.Kind, tm.Subject, ms(tm.Due))
	return err
}

// DeleteTimer disarms a timer; deleting one that is not armed is fine.
func (t *Tx) DeleteTimer(ctx context.Context, kind bot.TimerKind, subject int64) (err error) {
	defer wrap(&err, "delete %s timer for %d", kind, subject)
	_, err = t.tx.ExecContext(ctx, `DELETE FROM timers WHERE kind = $1 AND subject = $2`, kind, subject)
	return err
}

// DueTimers claims due timers; SKIP LOCKED lets several workers share the table.
func (t *Tx) DueTimers(ctx context.Context, now time.Time, limit int) (_ []bot.Timer, err error) {
	defer wrap(&err, "claim due timers")
	var rows []struct {
		Kind    string `db:"kind"`
		Subject int64  `db:"subject"`
		Due     int64  `db:"due_at"`
	}
	err = t.tx.SelectContext(ctx, &rows, `SELECT kind, subject, due_at FROM timers WHERE due_at <= $1
		ORDER BY due_at LIMIT $2 FOR UPDATE SKIP LOCKED`, ms(now), limit)
	if err != nil {
		return nil, err
	}
	out := make([]bot.Timer, len(rows))
	for i, r := range rows {
		out[i] = bot.Timer{Kind: bot.TimerKind(r.Kind), Subject: r.Subject, Due: fromMS(r.Due)}
	}
	return out, nil
}

// NextTimer tells when the earliest timer is due, or the zero time.
func (s *Store) NextTimer(ctx context.Context) (_ time.Time, err error) {
	defer wrap(&err, "find the next timer")
	var due sql.NullInt64
	if err := s.DB.GetContext(ctx, &due, `SELECT min(due_at) FROM timers`); err != nil {
		return time.Time{}, err
	}
	return fromMS(due.Int64), nil
}
