package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// RecordRelayed remembers that sourceEvent (in sourceRoom) was relayed as targetEvent
// (in targetRoom), for a case.
func (s *Store) RecordRelayed(ctx context.Context, caseID int64, sourceRoom, sourceEvent, targetRoom, targetEvent string) (err error) {
	defer wrap(&err, "record the relay of %s to %s", sourceEvent, targetRoom)
	_, err = s.exec(ctx, `INSERT INTO relayed_events (case_id, source_room, source_event, target_room, target_event, created_at)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (source_event, target_room) DO UPDATE SET target_event = EXCLUDED.target_event`,
		caseID, sourceRoom, sourceEvent, targetRoom, targetEvent, time.Now().UnixMilli())
	return err
}

// Counterpart finds the event in room that stands for eventID on the other side of a
// relay: the relayed copy of an original, or the original of a relayed copy. "" when
// there is none (the event was never relayed).
func (s *Store) Counterpart(ctx context.Context, eventID, room string) (_ string, err error) {
	defer wrap(&err, "find the counterpart of %s in %s", eventID, room)
	var out string
	err = s.DB.GetContext(ctx, &out, `SELECT target_event FROM relayed_events WHERE source_event = $1 AND target_room = $2
		UNION ALL SELECT source_event FROM relayed_events WHERE target_event = $1 AND source_room = $2 LIMIT 1`, eventID, room)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return out, err
}
