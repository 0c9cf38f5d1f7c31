package store

import (
	"context"
	"switchboard/bot"
)

// CaseByRoom loads and locks the case whose room this is, or nil.
func (t *Tx) CaseByRoom(ctx context.Context, roomID string) (_ *bot.Case, err error) {
	defer wrap(&err, "load the case of room %s", roomID)
	if roomID == "" {
		return nil, nil
	}
	return t.getCase(ctx, `room_id = $1`, roomID)
}
