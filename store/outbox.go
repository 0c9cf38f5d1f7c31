package store

import (
	"context"
	"encoding/json"

	"time"

	"github.com/lib/pq"

	"switchboard/bot"
)

// Enqueue writes a message to send and sets its ID.
func (t *Tx) Enqueue(ctx context.Context, o *bot.Outgoing) (err error) {
	defer wrap(&err, "enqueue a %s for %s", actionName(o.Action), o.Platform)
	payload := []byte("{}")
	if o.Action != "" {
		var err error
		if payload, err = json.Marshal(o.Payload); err != nil {
			return err
		}
	}
	return t.tx.QueryRowxContext(ctx, `INSERT INTO outbox (platform, conversation, plain, markdown, notice, content_free, created_at,
		action, payload, mentions) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
		o.Platform, o.Conversation, o.Plain, o.Markdown, o.Notice, o.ContentFree, time.Now().UnixMilli(),
		actionName(o.Action), payload, pq.StringArray(nonNil(o.Mentions))).Scan(&o.ID)
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
	Payload      []byte         `db:"payload"`
	Mentions     pq.StringArray `db:"mentions"`
	Attempts     int            `db:"attempts"`
}

// PendingOutbox lists unsent messages of a platform after afterID, oldest first.
func (s *Store) PendingOutbox(ctx context.Context, platform bot.Platform, afterID int64, limit int) (_ []bot.Outgoing, err error) {
	defer wrap(&err, "list the %s outbox", platform)
	var rows []outboxRow
	err = s.DB.SelectContext(ctx, &rows, `SELECT id, platform, conversation, plain, markdown, notice, content_free, attempts, action, payload, mentions
		FROM outbox WHERE platform = $1 AND id > $2 ORDER BY id LIMIT $3`, platform, afterID, limit)
	if err != nil {
		return nil, err
	}
	out := make([]bot.Outgoing, len(rows))
	for i, r := range rows {
		out[i] = bot.Outgoing{ID: r.ID, Platform: bot.Platform(r.Platform), Conversation: r.Conversation,
			Plain: r.Plain, Markdown: r.Markdown, Notice: r.Notice, ContentFree: r.ContentFree, Attempts: r.Attempts,
			Mentions: []string(r.Mentions)}
		if r.Action != actionMessage {
			out[i].Action = bot.Action(r.Action)
			if err := json.Unmarshal(r.Payload, &out[i].Payload); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
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
