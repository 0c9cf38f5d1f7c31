package store

import (
	"context"
	"switchboard/bot"
)

// CaseByRoom loads and locks the case whose room this is, or nil.
func (t *Tx) CaseByRoom(ctx context.Context, roomID string) (*bot.Case, error) {
	if roomID == "" {
		return nil, nil
	}
	return t.getCase(ctx, `room_id = $1`, roomID)
}
