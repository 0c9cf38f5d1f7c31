package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"switchboard/bot"
)

// querier is a transaction: the core's (prepared statements) or one of the store's own.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	GetContext(ctx context.Context, dest any, query string, args ...any) error
	SelectContext(ctx context.Context, dest any, query string, args ...any) error
	QueryRowxContext(ctx context.Context, query string, args ...any) *sqlx.Row
}

// roomActions are the outbox actions that never expire (bot.Action.Expires), spelt
// for SQL: TestRoomActionsNeverExpire keeps the two in step.
const roomActions = `('create_room', 'invite', 'remove', 'members', 'leave', 'trust_identity')`

// Purge forgets what the service no longer needs (bot.PurgeBefore): the content of
// cases closed or withdrawn before before.Content (what happened, who was named, the
// safety answers, additions, notes, feedback comments, reasons written with their
// events; the bot leaves their rooms and discards its keys for them; the facts for
// statistics and the audit log stay), the answers of intakes that ended before then,
// reasons about no case and blocks that ended before then; messages that could not be
// delivered since before.Messages and first messages waiting in the busy line since
// then; and event IDs processed, and phone acknowledgements used, before before.Dedup
// (a redelivery is only ever that old). It reports how many cases it emptied.
func (s *Store) Purge(ctx context.Context, before bot.PurgeBefore) (_ int, err error) {
	defer wrap(&err, "purge old content")
	var n int
	err = s.retry(ctx, "purge", func() error {
		tx, err := s.begin(ctx)
		if err != nil {
			return err
		}
		defer func() { _ = tx.Rollback() }()
		if !before.Content.IsZero() {
			content := ms(before.Content)
			if n, err = eraseCases(ctx, tx, s.keys, `SELECT id FROM cases WHERE state IN ('closed', 'withdrawn') AND updated_at < $1`,
				content, true); err != nil {
				return err
			}
			if _, err := eraseIntakes(ctx, tx, `SELECT id FROM intakes WHERE status <> 'open' AND updated_at < $1`, content); err != nil {
				return err
			}
			for _, q := range []string{
				`DELETE FROM audit_texts WHERE case_id IS NULL AND at < $1`,
				`DELETE FROM blocks WHERE until <> 0 AND until < $1`,
			} {
				if _, err := tx.ExecContext(ctx, q, content); err != nil {
					return err
				}
			}
		}
		if !before.Messages.IsZero() {
			for _, q := range []string{
				`DELETE FROM outbox WHERE created_at < $1 AND action NOT IN ` + roomActions,
				`DELETE FROM intake_waitlist WHERE added_at < $1`,
			} {
				if _, err := tx.ExecContext(ctx, q, ms(before.Messages)); err != nil {
					return err
				}
			}
		}
		if !before.Dedup.IsZero() {
			// A used acknowledgement token or webhook event is remembered as long as an
			// inbound event: replayed later, it would find its case acknowledged or ended,
			// which the core refuses anyway.
			for _, q := range []string{
				`DELETE FROM processed_events WHERE processed_at < $1`,
				`DELETE FROM pager_ack_tokens WHERE used_at < $1`,
			} {
				if _, err := tx.ExecContext(ctx, q, ms(before.Dedup)); err != nil {
					return err
				}
			}
		}
		return tx.Commit()
	})
	return n, err
}

// eraseCases erases the content of the cases the query which selects (given arg): what
// the requester told (the story, the parties and their hashes, the safety answers,
// what they added, their feedback comment) and the map of relayed events; the bot
// leaves every room the cases had (bot.ActionLeave) and forgets them. helpersToo also
// erases what helpers wrote (notes, and the reasons of their events), which the
// retention purge does and a requester's !forget does not. It reports how many of the
// cases had not been emptied before, and marks them (purged_at).
func eraseCases(ctx context.Context, q querier, k *Keys, which string, arg any, helpersToo bool) (int, error) {
	var rooms []string
	if err := q.SelectContext(ctx, &rooms, `SELECT room_id FROM case_rooms WHERE case_id IN (`+which+`)
		UNION SELECT room_id FROM cases WHERE room_id <> '' AND id IN (`+which+`)`, arg); err != nil {
		return 0, err
	}
	for _, room := range rooms {
		o := bot.Outgoing{Platform: bot.Matrix, Conversation: room, Action: bot.ActionLeave, Payload: bot.ActionPayload{Room: room}}
		if err := insertOutgoing(ctx, q, k, &o); err != nil {
			return 0, err
		}
	}
	var n int
	if err := q.GetContext(ctx, &n, `SELECT count(*) FROM cases WHERE purged_at = 0 AND id IN (`+which+`)`, arg); err != nil {
		return 0, err
	}
	// purged_at marks the case as emptied even when it had nothing to erase, so
	// !reopen knows there is nothing left to work on (the database's clock: it is a
	// marker, compared with nothing). A case emptied by an older version may still
	// hold what it did not erase then.
	if _, err := q.ExecContext(ctx, `UPDATE cases SET description = '', parties = '{}', party_keys = '{}',
			feedback_comment = '', q_harm = NULL, q_minor = NULL, q_illegal = NULL, q_offwiki = NULL, room_id = '',
			purged_at = CASE WHEN purged_at = 0 THEN (extract(epoch FROM clock_timestamp()) * 1000)::bigint ELSE purged_at END
		WHERE id IN (`+which+`) AND (purged_at = 0 OR description <> '' OR parties <> '{}' OR party_keys <> '{}'
			OR feedback_comment <> '' OR room_id <> '' OR q_harm IS NOT NULL OR q_minor IS NOT NULL
			OR q_illegal IS NOT NULL OR q_offwiki IS NOT NULL)`, arg); err != nil {
		return 0, err
	}
	stmts := []string{
		`DELETE FROM case_rooms WHERE case_id IN (` + which + `)`,
		`DELETE FROM case_additions WHERE case_id IN (` + which + `)`,
		`DELETE FROM relayed_events WHERE case_id IN (` + which + `)`,
	}
	if helpersToo {
		stmts = append(stmts,
			`UPDATE case_notes SET text = '' WHERE text <> '' AND case_id IN (`+which+`)`,
			`DELETE FROM audit_texts WHERE case_id IN (`+which+`)`)
	}
	for _, st := range stmts {
		if _, err := q.ExecContext(ctx, st, arg); err != nil {
			return 0, err
		}
	}
	return n, nil
}

// eraseIntakes erases the answers of the intakes which selects, and what was added
// during them; it reports how many had any.
func eraseIntakes(ctx context.Context, q querier, which string, arg any) (int, error) {
	res, err := q.ExecContext(ctx, `UPDATE intakes SET description = '', parties = NULL, project = '',
			q_harm = NULL, q_minor = NULL, q_illegal = NULL, q_offwiki = NULL
		WHERE id IN (`+which+`) AND (description <> '' OR parties IS NOT NULL OR project <> '' OR q_harm IS NOT NULL
			OR q_minor IS NOT NULL OR q_illegal IS NOT NULL OR q_offwiki IS NOT NULL)`, arg)
	if err != nil {
		return 0, err
	}
	n, _ := res.RowsAffected()
	if _, err := q.ExecContext(ctx, `DELETE FROM case_additions WHERE case_id IS NULL AND intake_id IN (`+which+`)`, arg); err != nil {
		return 0, err
	}
	return int(n), nil
}

// ForgetPerson erases, at once, what a requester told the service: the content of
// their ended cases and intakes (as the purge does, leaving those cases' rooms), what
// waits to be sent to them, their place in the busy line, their likely wiki name and
// their language. It keeps what others need for their own audit: the cases' facts and
// the audit log, the notes and reasons helpers wrote (erased by the purge), a block,
// and the person's platform ID, to which the limits against misuse still apply.
// The core ends an open intake first, and does not call it while a case is open.
func (t *Tx) ForgetPerson(ctx context.Context, p bot.Person, now time.Time) (_ bot.Forgotten, err error) {
	defer wrap(&err, "forget person %d", p.ID)
	var f bot.Forgotten
	ended := `SELECT id FROM cases WHERE person_id = $1 AND state IN ('closed', 'withdrawn')`
	if err := t.tx.GetContext(ctx, &f.Cases, `SELECT count(*) FROM (`+ended+`) c`, p.ID); err != nil {
		return f, err
	}
	if _, err := eraseCases(ctx, t.tx, t.k, ended, p.ID, false); err != nil {
		return f, err
	}
	if f.Intakes, err = eraseIntakes(ctx, t.tx, `SELECT id FROM intakes WHERE person_id = $1 AND status <> 'open'`, p.ID); err != nil {
		return f, err
	}
	res, err := t.tx.ExecContext(ctx, `DELETE FROM outbox WHERE platform = $1 AND action NOT IN `+roomActions+`
		AND conversation IN (SELECT conversation FROM intakes WHERE person_id = $2 UNION SELECT conversation FROM cases WHERE person_id = $2)`,
		p.Platform, p.ID)
	if err != nil {
		return f, err
	}
	m, _ := res.RowsAffected()
	f.Messages = int(m)
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`DELETE FROM intake_waitlist WHERE platform = $1 AND sender = $2`, []any{p.Platform, p.ExternalID}},
		{`UPDATE people SET known_name = '', known_key = '', language = '' WHERE id = $1`, []any{p.ID}},
	} {
		if _, err := t.tx.ExecContext(ctx, q.sql, q.args...); err != nil {
			return f, err
		}
	}
	return f, nil
}

// insertOutgoing writes an outbox row, sealed.
func insertOutgoing(ctx context.Context, q querier, k *Keys, o *bot.Outgoing) error {
	payload := ""
	if o.Action != "" {
		raw, err := json.Marshal(o.Payload)
		if err != nil {
			return err
		}
		payload = string(raw)
	}
	at := o.CreatedAt
	if at.IsZero() {
		at = time.Now()
	}
	// The words are sealed: a message waits here until it is sent (or, for someone who
	// is away, much longer), and a relay's payload names the file it carries.
	return q.QueryRowxContext(ctx, `INSERT INTO outbox (platform, conversation, plain, markdown, notice, content_free, created_at,
		action, payload, mentions) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
		o.Platform, o.Conversation, k.seal("outbox.plain", o.Plain), k.seal("outbox.markdown", o.Markdown), o.Notice,
		o.ContentFree, ms(at), actionName(o.Action), k.seal("outbox.payload", payload),
		pq.StringArray(nonNil(o.Mentions))).Scan(&o.ID)
}
