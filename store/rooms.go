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

// RoomReaders answers bot.Store.RoomReaders: the room's case (as CaseByRoom finds it)
// and its requester's platform, and member's volunteer status, in one statement
// outside any transaction.
func (s *Store) RoomReaders(ctx context.Context, room, member string) (r bot.RoomReaders, err error) {
	defer wrap(&err, "tell who reads room %s", room)
	var row struct {
		Case     bool   `db:"is_case"`
		Relayed  bool   `db:"relayed"`
		Platform string `db:"platform"`
		Status   string `db:"status"`
	}
	err = s.retry(ctx, "tell who reads a room", func() error {
		if st := s.stmts.get(ctx, roomReadersSQL); st != nil {
			return st.GetContext(ctx, &row, room, member)
		}
		return s.DB.GetContext(ctx, &row, roomReadersSQL, room, member)
	})
	return bot.RoomReaders{Case: row.Case, Relayed: row.Relayed, RequesterPlatform: bot.Platform(row.Platform),
		VolunteerStatus: bot.VolunteerStatus(row.Status)}, err
}

// roomReadersSQL is RoomReaders' statement, prepared once (a plain query with
// arguments is two round trips and a plan each time).
const roomReadersSQL = `SELECT c.id IS NOT NULL AS is_case, coalesce(c.relayed, false) AS relayed,
	coalesce(p.platform, '') AS platform,
	coalesce((SELECT v.status FROM volunteers v WHERE v.user_id = $2 AND $2 <> ''), '') AS status
FROM (SELECT coalesce((SELECT id FROM cases WHERE room_id = $1 LIMIT 1),
	(SELECT case_id FROM case_rooms WHERE room_id = $1)) AS id) r
LEFT JOIN cases c ON c.id = r.id
LEFT JOIN people p ON p.id = c.person_id`
