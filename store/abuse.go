package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"switchboard/bot"
)

// SetBlock blocks someone until until (zero: until unblocked).
func (t *Tx) SetBlock(ctx context.Context, b bot.Block) (err error) {
	defer wrap(&err, "block %s:%s", b.Platform, b.ExternalID)
	_, err = t.tx.ExecContext(ctx, `INSERT INTO blocks (platform, external_id, until, reason, blocked_by, blocked_at)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (platform, external_id) DO UPDATE SET until = EXCLUDED.until,
		reason = EXCLUDED.reason, blocked_by = EXCLUDED.blocked_by, blocked_at = EXCLUDED.blocked_at`,
		b.Platform, b.ExternalID, ms0(b.Until), t.k.seal("blocks.reason", b.Reason), b.By, ms(b.At))
	return err
}

// Unblock lifts a block; false if there was none.
func (t *Tx) Unblock(ctx context.Context, platform bot.Platform, externalID string) (_ bool, err error) {
	defer wrap(&err, "unblock %s:%s", platform, externalID)
	res, err := t.tx.ExecContext(ctx, `DELETE FROM blocks WHERE platform = $1 AND external_id = $2`, platform, externalID)
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// Blocked reports whether someone is blocked at now.
func (t *Tx) Blocked(ctx context.Context, platform bot.Platform, externalID string, now time.Time) (_ bool, err error) {
	defer wrap(&err, "check block of %s:%s", platform, externalID)
	var n int
	err = t.tx.GetContext(ctx, &n, `SELECT count(*) FROM blocks WHERE platform = $1 AND external_id = $2
		AND (until = 0 OR until > $3)`, platform, externalID, ms(now))
	return n > 0, err
}

// Blocks lists the blocks in force.
func (t *Tx) Blocks(ctx context.Context, now time.Time) (_ []bot.Block, err error) {
	defer wrap(&err, "list blocks")
	var rows []struct {
		Platform   string `db:"platform"`
		ExternalID string `db:"external_id"`
		Until      int64  `db:"until"`
		Reason     string `db:"reason"`
		By         string `db:"blocked_by"`
		At         int64  `db:"blocked_at"`
	}
	if err := t.tx.SelectContext(ctx, &rows, `SELECT platform, external_id, until, reason, blocked_by, blocked_at
		FROM blocks WHERE until = 0 OR until > $1 ORDER BY blocked_at`, ms(now)); err != nil {
		return nil, err
	}
	out := make([]bot.Block, len(rows))
	for i, r := range rows {
		reason, err := t.k.open("blocks.reason", r.Reason)
		if err != nil {
			return nil, err
		}
		out[i] = bot.Block{Platform: bot.Platform(r.Platform), ExternalID: r.ExternalID, Until: fromMS(r.Until),
			Reason: reason, By: r.By, At: fromMS(r.At)}
	}
	return out, nil
}

// Waitlist adds a first message that came in over the intake rate; false if the
// sender is already waiting.
func (t *Tx) Waitlist(ctx context.Context, w bot.Waiting) (_ bool, err error) {
	defer wrap(&err, "put %s:%s on the waitlist", w.Platform, w.Sender)
	res, err := t.tx.ExecContext(ctx, `INSERT INTO intake_waitlist (platform, sender, conversation, opening,
		unidentified, added_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
		w.Platform, w.Sender, w.Conversation, t.k.seal("intake_waitlist.opening", w.Opening), w.Unidentified, ms(w.At))
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// Waiting reports whether someone is on the waitlist.
func (t *Tx) Waiting(ctx context.Context, platform bot.Platform, sender string) (_ bool, err error) {
	defer wrap(&err, "check waitlist for %s:%s", platform, sender)
	var n int
	err = t.tx.GetContext(ctx, &n, `SELECT count(*) FROM intake_waitlist WHERE platform = $1 AND sender = $2`, platform, sender)
	return n > 0, err
}

// AddToWaiting adds text to what a waiting person wrote; false if they are not waiting.
func (t *Tx) AddToWaiting(ctx context.Context, platform bot.Platform, sender, text string) (_ bool, err error) {
	defer wrap(&err, "add to the waiting request of %s:%s", platform, sender)
	// Sealed, the text is joined in Go, not in SQL.
	var sealed string
	err = t.tx.GetContext(ctx, &sealed, `SELECT opening FROM intake_waitlist WHERE platform = $1 AND sender = $2 FOR UPDATE`,
		platform, sender)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	opening, err := t.k.open("intake_waitlist.opening", sealed)
	if err != nil {
		return false, err
	}
	_, err = t.tx.ExecContext(ctx, `UPDATE intake_waitlist SET opening = $3 WHERE platform = $1 AND sender = $2`,
		platform, sender, t.k.seal("intake_waitlist.opening", opening+"\n\n"+text))
	return err == nil, err
}

// TakeWaiting takes a person off the waitlist and returns what they wrote, or nil.
func (t *Tx) TakeWaiting(ctx context.Context, platform bot.Platform, sender string) (_ *bot.Waiting, err error) {
	defer wrap(&err, "take %s:%s off the waitlist", platform, sender)
	return t.takeWaiting(ctx, `platform = $1 AND sender = $2`, platform, sender)
}

// NextWaiting takes the oldest waiting first message off the list (locked, deleted).
func (t *Tx) NextWaiting(ctx context.Context) (_ *bot.Waiting, err error) {
	defer wrap(&err, "take the next from the waitlist")
	return t.takeWaiting(ctx, `true`)
}

func (t *Tx) takeWaiting(ctx context.Context, where string, args ...any) (*bot.Waiting, error) {
	var r struct {
		ID           int64  `db:"id"`
		Platform     string `db:"platform"`
		Sender       string `db:"sender"`
		Conversation string `db:"conversation"`
		Opening      string `db:"opening"`
		Unidentified bool   `db:"unidentified"`
		At           int64  `db:"added_at"`
	}
	err := t.tx.GetContext(ctx, &r, `DELETE FROM intake_waitlist WHERE id = (SELECT id FROM intake_waitlist
		WHERE `+where+` ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING id, platform, sender, conversation, opening,
		unidentified, added_at`, args...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	opening, err := t.k.open("intake_waitlist.opening", r.Opening)
	if err != nil {
		return nil, err
	}
	return &bot.Waiting{Platform: bot.Platform(r.Platform), Sender: r.Sender, Conversation: r.Conversation,
		Opening: opening, Unidentified: r.Unidentified, At: fromMS(r.At)}, nil
}

// WaitlistLength counts the first messages waiting.
func (s *Store) WaitlistLength(ctx context.Context) (_ int, err error) {
	defer wrap(&err, "count the waitlist")
	var n int
	err = s.DB.GetContext(ctx, &n, `SELECT count(*) FROM intake_waitlist`)
	return n, err
}
