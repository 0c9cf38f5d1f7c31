package store

import (
	"context"
	"time"

	"switchboard/bot"
)

// CaseByRoom loads and locks the case whose room this is, or was (a case keeps the
// rooms it had, so a requester writing in one it left is still recognised), or nil.
// One statement: it is asked for every Matrix message.
func (t *Tx) CaseByRoom(ctx context.Context, roomID string) (_ *bot.Case, err error) {
	defer wrap(&err, "load the case of room %s", roomID)
	if roomID == "" {
		return nil, nil
	}
	return t.getCase(ctx, `id = coalesce((SELECT id FROM cases WHERE room_id = $1 LIMIT 1),
		(SELECT case_id FROM case_rooms WHERE room_id = $1))`, roomID)
}

// RecordRoom remembers that a room belongs to a case.
func (t *Tx) RecordRoom(ctx context.Context, caseID int64, roomID string, now time.Time) (err error) {
	defer wrap(&err, "record room %s of case %d", roomID, caseID)
	_, err = t.tx.ExecContext(ctx, `INSERT INTO case_rooms (room_id, case_id, created_at) VALUES ($1, $2, $3)
		ON CONFLICT (room_id) DO NOTHING`, roomID, caseID, ms(now))
	return err
}
