package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/lib/pq"

	"switchboard/bot"
)

// Enqueue writes a message to send and sets its ID.
func (t *Tx) Enqueue(ctx context.Context, o *bot.Outgoing) (err error) {
	defer wrap(&err, "enqueue a %s for %s", actionName(o.Action), o.Platform)
	return insertOutgoing(ctx, t.tx, t.k, o)
}

type outboxRow struct {
	ID           int64          `db:"id"`
	Platform     string         `db:"platform"`
	Conversation string         `db:"conversation"`
	Plain        string         `db:"plain"`
	Markdown     string         `db:"markdown"`
	Notice       bool           `db:"notice"`
	ContentFree  bool           `db:"content_free"`
	Action       string         `db:"action"`
	Payload      string         `db:"payload"`
	Mentions     pq.StringArray `db:"mentions"`
	Attempts     int            `db:"attempts"`
	CreatedAt    int64          `db:"created_at"`
}

// PendingOutbox lists unsent messages of a platform after afterID, oldest first.
func (s *Store) PendingOutbox(ctx context.Context, platform bot.Platform, afterID int64, limit int) (_ []bot.Outgoing, err error) {
	defer wrap(&err, "list the %s outbox", platform)
	var rows []outboxRow
	err = s.DB.SelectContext(ctx, &rows, `SELECT id, platform, conversation, plain, markdown, notice, content_free, attempts, action, payload, mentions,
		created_at FROM outbox WHERE platform = $1 AND id > $2 ORDER BY id LIMIT $3`, platform, afterID, limit)
	if err != nil {
		return nil, err
	}
	out := make([]bot.Outgoing, len(rows))
	for i, r := range rows {
		if out[i], err = s.keys.outgoing(r); err != nil {
			return nil, fmt.Errorf("outbox row %d: %w", r.ID, err)
		}
	}
	return out, nil
}

// outgoing opens a row of the outbox.
func (k *Keys) outgoing(r outboxRow) (bot.Outgoing, error) {
	plain, err := k.open("outbox.plain", r.Plain)
	if err != nil {
		return bot.Outgoing{}, err
	}
	markdown, err := k.open("outbox.markdown", r.Markdown)
	if err != nil {
		return bot.Outgoing{}, err
	}
	o := bot.Outgoing{ID: r.ID, Platform: bot.Platform(r.Platform), Conversation: r.Conversation,
		Plain: plain, Markdown: markdown, Notice: r.Notice, ContentFree: r.ContentFree, Attempts: r.Attempts,
		Mentions: []string(r.Mentions), CreatedAt: fromMS(r.CreatedAt)}
	if r.Action != actionMessage {
		o.Action = bot.Action(r.Action)
		payload, err := k.open("outbox.payload", r.Payload)
		if err != nil {
			return bot.Outgoing{}, err
		}
		if err := json.Unmarshal([]byte(payload), &o.Payload); err != nil {
			return bot.Outgoing{}, err
		}
	}
	return o, nil
}

// OutboxSent deletes a delivered message, so its content does not stay stored.
func (s *Store) OutboxSent(ctx context.Context, id int64) (err error) {
	defer wrap(&err, "forget sent outbox row %d", id)
	return s.retry(ctx, "outbox sent", func() error {
		_, err := s.exec(ctx, `DELETE FROM outbox WHERE id = $1`, id)
		return err
	})
}

// OutboxFailed counts a failed delivery attempt.
func (s *Store) OutboxFailed(ctx context.Context, id int64) (err error) {
	defer wrap(&err, "count a failed send of outbox row %d", id)
	_, err = s.exec(ctx, `UPDATE outbox SET attempts = attempts + 1 WHERE id = $1`, id)
	return err
}

// actionMessage is how the outbox's action column names a plain message (Action "").
const actionMessage = "message"

func actionName(a bot.Action) string {
	if a == "" {
		return actionMessage
	}
	return string(a)
}
