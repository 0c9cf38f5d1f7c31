package matrix

import (
	"context"
	"encoding/json"
	"sync"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"switchboard/store"
)

// pending tracks encrypted events whose keys had not arrived when their /sync batch
// was processed. They are kept in the database until handled, so a restart while the
// crypto helper waits for keys loses nothing. The in-memory set spares a DELETE for
// the common case of an event decrypted at once.
type pending struct {
	store *store.Store
	mu    sync.Mutex
	ids   map[id.EventID]bool
}

func newPending(st *store.Store) *pending { return &pending{store: st, ids: map[id.EventID]bool{}} }

func (p *pending) keep(ctx context.Context, evt *event.Event) error {
	raw, err := json.Marshal(evt)
	if err != nil {
		return err
	}
	if err := p.store.AddPendingEvent(ctx, evt.ID.String(), evt.RoomID.String(), raw); err != nil {
		return err
	}
	p.mu.Lock()
	p.ids[evt.ID] = true
	p.mu.Unlock()
	return nil
}

// done forgets an event once it was handled (or deliberately ignored).
func (p *pending) done(ctx context.Context, evtID id.EventID) {
	p.mu.Lock()
	kept := p.ids[evtID]
	delete(p.ids, evtID)
	p.mu.Unlock()
	if kept {
		_ = p.store.DeletePendingEvent(ctx, evtID.String())
	}
}

// load reads the events left by a previous run; unreadable ones are dropped.
func (p *pending) load(ctx context.Context) ([]*event.Event, error) {
	rows, err := p.store.PendingEvents(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*event.Event, 0, len(rows))
	for _, r := range rows {
		var evt event.Event
		if json.Unmarshal(r.Event, &evt) != nil {
			_ = p.store.DeletePendingEvent(ctx, r.EventID)
			continue
		}
		evt.RoomID = id.RoomID(r.RoomID)
		if evt.Content.ParseRaw(evt.Type) != nil {
			_ = p.store.DeletePendingEvent(ctx, r.EventID)
			continue
		}
		p.mu.Lock()
		p.ids[evt.ID] = true
		p.mu.Unlock()
		out = append(out, &evt)
	}
	return out, nil
}
