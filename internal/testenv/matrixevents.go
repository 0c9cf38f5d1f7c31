package testenv

import (
	"context"
	"fmt"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// onAny keeps every timeline event (the crypto helper hands decrypted events to the
// syncer again, with their real type; the encrypted originals are not kept).
func (c *Client) onAny(_ context.Context, evt *event.Event) {
	if evt.Type == event.EventEncrypted || evt.Mautrix.EventSource&event.SourceTimeline == 0 && evt.StateKey == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.events[evt.RoomID] = append(c.events[evt.RoomID], evt)
	c.notifyLocked()
}

// Events returns every event seen in room so far, decrypted where it could be: for
// tests that look at more than messages (reactions, redactions, edits, state).
func (c *Client) Events(room id.RoomID) []*event.Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*event.Event(nil), c.events[room]...)
}

// WaitEvent waits for an event in room, from someone else, that match accepts.
func (c *Client) WaitEvent(ctx context.Context, room id.RoomID, match func(*event.Event) bool) (*event.Event, error) {
	for {
		c.mu.Lock()
		evts, changed := c.events[room], c.changed
		c.mu.Unlock()
		for _, e := range evts {
			if e.Sender != c.cli.UserID && match(e) {
				return e, nil
			}
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, fmt.Errorf("testenv: %s waiting for an event in %s: %w", c.cli.UserID, room, ctx.Err())
		}
	}
}
