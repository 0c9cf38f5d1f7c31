package store

import (
	"context"
	"time"

	"switchboard/bot"
)

var _ bot.PhoneAckStore = (*Tx)(nil)

// UseAckToken records that an acknowledgement token (or webhook event) was used, so
// it is used once only.
func (t *Tx) UseAckToken(ctx context.Context, nonce string, now time.Time) (fresh bool, err error) {
	defer wrap(&err, "use an acknowledgement token")
	res, err := t.tx.ExecContext(ctx, `INSERT INTO pager_ack_tokens (nonce, used_at) VALUES ($1, $2) ON CONFLICT DO NOTHING`, nonce, ms(now))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}
