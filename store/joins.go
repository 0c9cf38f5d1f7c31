package store

import (
	"context"
	"time"
)

// AddPendingJoin remembers an invitation until the bot has joined the room or been
// refused for good.
func (s *Store) AddPendingJoin(ctx context.Context, roomID string) (err error) {
	defer wrap(&err, "remember the invitation to %s", roomID)
	return s.retry(ctx, "keep pending join", func() error {
		_, err := s.exec(ctx, `INSERT INTO matrix_pending_joins (room_id, added_at) VALUES ($1, $2)
			ON CONFLICT DO NOTHING`, roomID, time.Now().UnixMilli())
		return err
	})
}

// DeletePendingJoin forgets an invitation: joined, refused, or withdrawn.
func (s *Store) DeletePendingJoin(ctx context.Context, roomID string) (err error) {
	defer wrap(&err, "forget the invitation to %s", roomID)
	_, err = s.exec(ctx, `DELETE FROM matrix_pending_joins WHERE room_id = $1`, roomID)
	return err
}

// PendingJoins lists the rooms still to be joined, oldest invitation first.
func (s *Store) PendingJoins(ctx context.Context) (_ []string, err error) {
	defer wrap(&err, "list pending joins")
	var out []string
	err = s.DB.SelectContext(ctx, &out, `SELECT room_id FROM matrix_pending_joins ORDER BY added_at, room_id`)
	return out, err
}
