package store

import (
	"context"
	"time"

	"switchboard/bot"
)

// MarkProcessed records an inbound event ID; false means it was handled before.
func (t *Tx) MarkProcessed(ctx context.Context, platform bot.Platform, eventID string, now time.Time) (_ bool, err error) {
	defer wrap(&err, "mark %s event %s processed", platform, eventID)
	res, err := t.tx.ExecContext(ctx, `INSERT INTO processed_events (platform, event_id, processed_at)
		VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, platform, eventID, ms(now))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}
