package matrix

import (
	"context"
	"errors"
	"sync"
	"time"

	"go.mau.fi/util/retryafter"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"
)

// joiner joins the rooms the bot is invited to, apart from /sync. A join the
// homeserver fails (5xx, 429, no answer) used to mark the whole sync batch unfinished,
// so every message of every other room waited behind it, fetched again with a growing
// backoff; now the join is retried here, on its own backoff, until it succeeds or is
// refused for good, and the batch completes. Each invitation is kept in
// matrix_pending_joins until then, because the sync position moves past the batch
// that brought it and a restart would not see it again.
//
// Joins go one at a time: a flood of invitations while the homeserver limits the bot
// costs one request per room per backoff, not a burst.
type joiner struct {
	b    *Bridge
	wake chan struct{}

	mu  sync.Mutex
	due map[id.RoomID]*joinTry
}

type joinTry struct {
	at      time.Time     // the next attempt
	backoff time.Duration // the wait after the next failure
}

const (
	joinBackoffMin = time.Second
	joinBackoffMax = 30 * time.Second
	// joinRetryAfterMax bounds how long a 429's Retry-After can make a join wait.
	joinRetryAfterMax = 5 * time.Minute
	// joinTimeout bounds one attempt: a join over federation can take a while, but a
	// homeserver that never answers must not hold the other invitations forever.
	joinTimeout = 2 * time.Minute
)

func newJoiner(b *Bridge) *joiner {
	return &joiner{b: b, wake: make(chan struct{}, 1), due: map[id.RoomID]*joinTry{}}
}

// add records an invitation and has the room joined as soon as possible. The row is
// written before the batch that brought the invitation can be marked done.
func (j *joiner) add(ctx context.Context, room id.RoomID) error {
	if err := j.b.store.AddPendingJoin(ctx, room.String()); err != nil {
		return err
	}
	j.schedule(room)
	return nil
}

func (j *joiner) schedule(room id.RoomID) {
	j.mu.Lock()
	if j.due[room] == nil {
		j.due[room] = &joinTry{at: time.Now(), backoff: joinBackoffMin}
	}
	j.mu.Unlock()
	select {
	case j.wake <- struct{}{}:
	default:
	}
}

// cancel forgets an invitation that was withdrawn (or a room the bot left).
func (j *joiner) cancel(ctx context.Context, room id.RoomID) {
	j.mu.Lock()
	_, waiting := j.due[room]
	delete(j.due, room)
	j.mu.Unlock()
	if waiting {
		if err := j.b.store.DeletePendingJoin(ctx, room.String()); err != nil {
			j.b.log.Warn().Err(err).Stringer("room_id", room).Msg("Could not forget a withdrawn invitation")
		}
	}
}

// run joins rooms until ctx ends, starting with the invitations a previous run left.
func (j *joiner) run(ctx context.Context) {
	rooms, err := j.b.store.PendingJoins(ctx)
	if err != nil && ctx.Err() == nil {
		j.b.log.Err(err).Msg("Could not read the invitations still to be joined")
	}
	for _, r := range rooms {
		room := id.RoomID(r)
		j.b.joinMu.Lock()
		j.b.joined[room] = true // a repeated invitation is not joined twice
		j.b.joinMu.Unlock()
		j.schedule(room)
	}
	for {
		room, wait := j.next(time.Now())
		if room != "" {
			j.attempt(ctx, room)
			continue
		}
		var tick <-chan time.Time
		if wait > 0 {
			tick = time.After(wait)
		}
		select {
		case <-ctx.Done():
			return
		case <-j.wake:
		case <-tick:
		}
	}
}

// next is the room whose attempt is due, or how long until the earliest one is (0:
// nothing waits).
func (j *joiner) next(now time.Time) (id.RoomID, time.Duration) {
	j.mu.Lock()
	defer j.mu.Unlock()
	var first id.RoomID
	var at time.Time
	for room, t := range j.due {
		if first == "" || t.at.Before(at) {
			first, at = room, t.at
		}
	}
	if first == "" {
		return "", 0
	}
	if !at.After(now) {
		return first, 0
	}
	return "", at.Sub(now)
}

// attempt joins one room; a failure that may pass is scheduled again with backoff.
func (j *joiner) attempt(ctx context.Context, room id.RoomID) {
	b := j.b
	actx, cancel := context.WithTimeout(ctx, joinTimeout)
	_, err := b.cli.JoinRoomByID(actx, room)
	cancel()
	if ctx.Err() != nil {
		return // stopping: the row stays, and the next start tries again
	}
	if err != nil && joinMayPass(err) {
		j.mu.Lock()
		t := j.due[room]
		var wait time.Duration
		if t != nil { // not withdrawn meanwhile
			wait = max(t.backoff, min(retryAfter(err), joinRetryAfterMax))
			t.at = time.Now().Add(wait)
			t.backoff = min(t.backoff*2, joinBackoffMax)
		}
		j.mu.Unlock()
		b.log.Warn().Err(err).Stringer("room_id", room).Dur("retry_in", wait).Msg("Could not join a room we were invited to; trying again")
		return
	}
	j.mu.Lock()
	delete(j.due, room)
	j.mu.Unlock()
	if derr := b.store.DeletePendingJoin(ctx, room.String()); derr != nil {
		b.log.Warn().Err(derr).Stringer("room_id", room).Msg("Could not forget a handled invitation")
	}
	if err != nil {
		// Refused for good (the invitation was withdrawn, the room is gone, the bot
		// is banned): a new invitation starts afresh.
		b.log.Warn().Err(err).Stringer("room_id", room).Msg("Could not join a room we were invited to; giving up")
		b.joinMu.Lock()
		delete(b.joined, room)
		b.joinMu.Unlock()
		return
	}
	b.log.Debug().Stringer("room_id", room).Msg("Joined a room")
	if _, err := b.cli.Members(ctx, room); err != nil {
		b.log.Warn().Err(err).Stringer("room_id", room).Msg("Could not list the members of a room")
		return
	}
	b.checkGroup(ctx, room)
}

// joinMayPass: no answer, a server error or a rate limit; anything else (403, 404)
// is the homeserver's final word.
func joinMayPass(err error) bool {
	st := httpStatus(err)
	return st == 0 || st >= 500 || st == 429
}

// retryAfter is how long a 429 asks the bot to wait (the Retry-After header or the
// body's retry_after_ms), or 0.
func retryAfter(err error) time.Duration {
	var httpErr mautrix.HTTPError
	if !errors.As(err, &httpErr) || httpErr.Response == nil || httpErr.Response.StatusCode != 429 {
		return 0
	}
	if httpErr.RespError != nil {
		if ms, ok := httpErr.RespError.ExtraData["retry_after_ms"].(float64); ok && ms > 0 {
			return time.Duration(ms) * time.Millisecond
		}
	}
	return retryafter.Parse(httpErr.Response.Header.Get("Retry-After"), 0)
}
