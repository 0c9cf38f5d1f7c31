package store

import (
	"context"
	"time"
)

// PendingEvent is an encrypted Matrix event still waiting for its keys.
type PendingEvent struct {
	EventID string `db:"event_id"`
	RoomID  string `db:"room_id"`
	Event   []byte `db:"event"`
}

// AddPendingEvent keeps an encrypted event until it is handled.
func (s *Store) AddPendingEvent(ctx context.Context, eventID, roomID string, raw []byte) (err error) {
	defer wrap(&err, "keep undecrypted event %s", eventID)
	return s.retry(ctx, "keep pending event", func() error {
		_, err := s.exec(ctx, `INSERT INTO matrix_pending_events (event_id, room_id, event, added_at)
			VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`, eventID, roomID, raw, time.Now().UnixMilli())
		return err
	})
}

// DeletePendingEvent forgets an event once it was handled.
func (s *Store) DeletePendingEvent(ctx context.Context, eventID string) (err error) {
	defer wrap(&err, "drop undecrypted event %s", eventID)
	_, err = s.exec(ctx, `DELETE FROM matrix_pending_events WHERE event_id = $1`, eventID)
	return err
}

// DeletePendingEventsIn forgets the events of a room still waiting for their keys
// (the room's case was erased, and the bot left it).
func (s *Store) DeletePendingEventsIn(ctx context.Context, roomID string) (err error) {
	defer wrap(&err, "drop the undecrypted events of %s", roomID)
	_, err = s.DB.ExecContext(ctx, `DELETE FROM matrix_pending_events WHERE room_id = $1`, roomID)
	return err
}

// PendingEvents lists the events still waiting, oldest first.
func (s *Store) PendingEvents(ctx context.Context) (_ []PendingEvent, err error) {
	defer wrap(&err, "list undecrypted events")
	var out []PendingEvent
	err = s.DB.SelectContext(ctx, &out, `SELECT event_id, room_id, event FROM matrix_pending_events ORDER BY added_at`)
	return out, err
}
