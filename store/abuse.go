package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/lib/pq"

	"switchboard/bot"
)

// SetBlock blocks someone until until (zero: until unblocked).
func (t *Tx) SetBlock(ctx context.Context, b bot.Block) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO blocks (platform, external_id, until, reason, blocked_by, blocked_at)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (platform, external_id) DO UPDATE SET until = EXCLUDED.until,
		reason = EXCLUDED.reason, blocked_by = EXCLUDED.blocked_by, blocked_at = EXCLUDED.blocked_at`,
		b.Platform, b.ExternalID, ms0(b.Until), b.Reason, b.By, ms(b.At))
	return err
}

// Unblock lifts a block; false if there was none.
func (t *Tx) Unblock(ctx context.Context, platform bot.Platform, externalID string) (bool, error) {
	res, err := t.tx.ExecContext(ctx, `DELETE FROM blocks WHERE platform = $1 AND external_id = $2`, platform, externalID)
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// Blocked reports whether someone is blocked at now.
func (t *Tx) Blocked(ctx context.Context, platform bot.Platform, externalID string, now time.Time) (bool, error) {
	var n int
	err := t.tx.GetContext(ctx, &n, `SELECT count(*) FROM blocks WHERE platform = $1 AND external_id = $2
		AND (until = 0 OR until > $3)`, platform, externalID, ms(now))
	return n > 0, err
}

// Blocks lists the blocks in force.
func (t *Tx) Blocks(ctx context.Context, now time.Time) ([]bot.Block, error) {
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
		out[i] = bot.Block{Platform: bot.Platform(r.Platform), ExternalID: r.ExternalID, Until: fromMS(r.Until),
			Reason: r.Reason, By: r.By, At: fromMS(r.At)}
	}
	return out, nil
}

// IntakesSince counts the intakes a person started since a moment.
func (t *Tx) IntakesSince(ctx context.Context, personID int64, since time.Time) (int, error) {
	var n int
	err := t.tx.GetContext(ctx, &n, `SELECT count(*) FROM intakes WHERE person_id = $1 AND created_at >= $2`, personID, ms(since))
	return n, err
}

// Waitlist adds a first message that came in over the intake rate; false if the
// sender is already waiting.
func (t *Tx) Waitlist(ctx context.Context, w bot.Waiting) (bool, error) {
	res, err := t.tx.ExecContext(ctx, `INSERT INTO intake_waitlist (platform, sender, conversation, opening,
		unidentified, added_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
		w.Platform, w.Sender, w.Conversation, w.Opening, w.Unidentified, ms(w.At))
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// Waiting reports whether someone is on the waitlist.
func (t *Tx) Waiting(ctx context.Context, platform bot.Platform, sender string) (bool, error) {
	var n int
	err := t.tx.GetContext(ctx, &n, `SELECT count(*) FROM intake_waitlist WHERE platform = $1 AND sender = $2`, platform, sender)
	return n > 0, err
}

// NextWaiting takes the oldest waiting first message off the list (locked, deleted).
func (t *Tx) NextWaiting(ctx context.Context) (*bot.Waiting, error) {
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
		ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING id, platform, sender, conversation, opening,
		unidentified, added_at`)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &bot.Waiting{Platform: bot.Platform(r.Platform), Sender: r.Sender, Conversation: r.Conversation,
		Opening: r.Opening, Unidentified: r.Unidentified, At: fromMS(r.At)}, nil
}

// WaitlistLength counts the first messages waiting.
func (s *Store) WaitlistLength(ctx context.Context) (int, error) {
	var n int
	err := s.DB.GetContext(ctx, &n, `SELECT count(*) FROM intake_waitlist`)
	return n, err
}

// SetKnownName records the wiki name a person most likely has, lower-cased: names are
// compared case-insensitively after MediaWiki normalisation.
func (t *Tx) SetKnownName(ctx context.Context, personID int64, name string) error {
	name = strings.ToLower(name)
	_, err := t.tx.ExecContext(ctx, `UPDATE people SET known_name = $2 WHERE id = $1 AND known_name <> $2`, personID, name)
	return err
}

func lowerAll(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = strings.ToLower(n)
	}
	return out
}

// LinkedCases finds open or recent cases (other than c) that name c's requester as a
// party, or whose requester c names. Returns (other case, kind).
func (t *Tx) LinkedCases(ctx context.Context, c *bot.Case, knownName string, since time.Time) ([]bot.CaseLink, error) {
	var rows []struct {
		ID   int64  `db:"id"`
		Ref  string `db:"ref"`
		Kind string `db:"kind"`
	}
	err := t.tx.SelectContext(ctx, &rows, `
		SELECT o.id, o.ref, 'requester_named' AS kind FROM cases o
		WHERE o.id <> $1 AND $2 <> '' AND EXISTS (SELECT 1 FROM unnest(o.parties) p WHERE lower(p) = $2)
			AND (o.state NOT IN ('withdrawn', 'closed') OR o.updated_at >= $4)
		UNION
		SELECT o.id, o.ref, 'names_requester' FROM cases o JOIN people p ON p.id = o.person_id
		WHERE o.id <> $1 AND p.known_name <> '' AND p.known_name = ANY ($3::text[])
			AND (o.state NOT IN ('withdrawn', 'closed') OR o.updated_at >= $4)`,
		c.ID, strings.ToLower(knownName), pq.StringArray(lowerAll(c.Parties)), ms(since))
	if err != nil {
		return nil, err
	}
	out := make([]bot.CaseLink, len(rows))
	for i, r := range rows {
		out[i] = bot.CaseLink{OtherID: r.ID, OtherRef: r.Ref, Kind: r.Kind}
	}
	return out, nil
}

// AddLink records a link; false if it was known.
func (t *Tx) AddLink(ctx context.Context, caseID int64, l bot.CaseLink, now time.Time) (bool, error) {
	res, err := t.tx.ExecContext(ctx, `INSERT INTO case_links (case_id, other_id, kind, created_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT DO NOTHING`, caseID, l.OtherID, l.Kind, ms(now))
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// AuditOf lists what someone did or what was done about them, newest last.
func (t *Tx) AuditOf(ctx context.Context, who string, limit int) ([]bot.Event, error) {
	return t.events(ctx, `SELECT case_id, intake_id, actor, kind, detail, at, subject FROM (SELECT * FROM case_events
		WHERE actor = $1 OR subject = $1 ORDER BY id DESC LIMIT $2) e ORDER BY id`, who, limit)
}

// AuditCase lists a case's events, with its intake's.
func (t *Tx) AuditCase(ctx context.Context, caseID int64) ([]bot.Event, error) {
	return t.events(ctx, `SELECT case_id, intake_id, actor, kind, detail, at, subject FROM case_events
		WHERE case_id = $1 OR intake_id = (SELECT intake_id FROM cases WHERE id = $1) ORDER BY id LIMIT $2`, caseID, 500)
}

func (t *Tx) events(ctx context.Context, query string, args ...any) ([]bot.Event, error) {
	var rows []struct {
		eventRow
		Subject string `db:"subject"`
	}
	if err := t.tx.SelectContext(ctx, &rows, query, args...); err != nil {
		return nil, err
	}
	out := make([]bot.Event, len(rows))
	for i, r := range rows {
		out[i] = r.eventRow.event()
		out[i].Subject = r.Subject
	}
	return out, nil
}
