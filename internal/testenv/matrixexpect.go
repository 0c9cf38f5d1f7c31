package testenv

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// Messages returns every message seen in room so far, own ones included.
func (c *Client) Messages(room id.RoomID) []Msg {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Msg(nil), c.msgs[room]...)
}

// Undecryptable returns the events the crypto helper gave up on.
func (c *Client) Undecryptable() []id.EventID {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]id.EventID(nil), c.undecryptable...)
}

// WaitFor returns the first message in room from someone else, after the
// room's cursor, that match accepts, and moves the cursor past it. Like an
// expect script, messages skipped on the way are consumed.
func (c *Client) WaitFor(ctx context.Context, room id.RoomID, match func(Msg) bool) (Msg, error) {
	for {
		// Messages are only ever appended, so the snapshot can be matched
		// without the lock, and match may call back into the client.
		c.mu.Lock()
		msgs, from, changed := c.msgs[room], c.cursor[room], c.changed
		c.mu.Unlock()
		for i := from; i < len(msgs); i++ {
			if msgs[i].Sender != c.cli.UserID && match(msgs[i]) {
				c.mu.Lock()
				c.cursor[room] = max(c.cursor[room], i+1)
				c.mu.Unlock()
				return msgs[i], nil
			}
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return Msg{}, fmt.Errorf("testenv: %s waiting in %s: %w (seen: %s)", c.cli.UserID, room, ctx.Err(), c.describe(room))
		}
	}
}

// Expect waits up to ExpectTimeout for a message from someone else containing
// substr, and fails the test if none comes.
func (c *Client) Expect(tb testing.TB, room id.RoomID, substr string) Msg {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), c.ExpectTimeout)
	defer cancel()
	m, err := c.WaitFor(ctx, room, func(m Msg) bool { return strings.Contains(m.Body, substr) })
	if err != nil {
		tb.Fatalf("expected a message containing %q: %v", substr, err)
	}
	return m
}

// ExpectNext waits up to ExpectTimeout for the next message from someone else
// in room and fails the test unless it contains substr. Sent right after a
// command whose reply is substr, it is the anchored form of "nothing else
// comes": whatever the other side had queued for the room earlier would
// arrive before the reply.
func (c *Client) ExpectNext(tb testing.TB, room id.RoomID, substr string) Msg {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), c.ExpectTimeout)
	defer cancel()
	m, err := c.WaitFor(ctx, room, func(Msg) bool { return true })
	if err != nil {
		tb.Fatalf("expected a message containing %q: %v", substr, err)
	}
	if !strings.Contains(m.Body, substr) {
		tb.Fatalf("expected the next message from the other side to contain %q, got %q from %s", substr, m.Body, m.Sender)
	}
	return m
}

// WaitMembership waits until user's membership in room is want (someone
// joining, leaving or being removed) in the homeserver's room state. It asks
// the server rather than trusting the sync stream: under load, Dendrite 0.13.8
// was seen to leave a removal out of /sync, for good, both for the member
// removed and for one who stayed. It asks again whenever the client records
// something, and at least every membershipPoll.
func (c *Client) WaitMembership(ctx context.Context, room id.RoomID, user id.UserID, want event.Membership) error {
	for {
		c.mu.Lock()
		changed := c.changed
		c.mu.Unlock()
		var m event.MemberEventContent
		err := c.cli.StateEvent(ctx, room, event.StateMember, user.String(), &m)
		if err == nil && m.Membership == want {
			return nil
		}
		select {
		case <-changed:
		case <-time.After(membershipPoll):
		case <-ctx.Done():
			return fmt.Errorf("testenv: %s waiting for %s to be %s in %s (last seen: %q, %v): %w",
				c.cli.UserID, user, want, room, m.Membership, err, ctx.Err())
		}
	}
}

// membershipPoll bounds how long a membership change can go unnoticed when
// the sync stream does not bring it.
const membershipPoll = 200 * time.Millisecond

// WaitEncrypted waits until the client has seen an encrypted event from sender
// in room, whether or not it could decrypt it.
func (c *Client) WaitEncrypted(ctx context.Context, room id.RoomID, sender id.UserID) error {
	for {
		c.mu.Lock()
		seen, changed := slices.Contains(c.ciphertexts[room], sender), c.changed
		c.mu.Unlock()
		if seen {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("testenv: %s waiting for an encrypted event from %s in %s: %w", c.cli.UserID, sender, room, ctx.Err())
		}
	}
}

// NextInvite returns the next room the client was invited to and has joined.
func (c *Client) NextInvite(ctx context.Context) (Invite, error) {
	for {
		c.mu.Lock()
		if c.inviteCursor < len(c.invites) {
			inv := c.invites[c.inviteCursor]
			c.inviteCursor++
			c.mu.Unlock()
			return inv, nil
		}
		changed := c.changed
		c.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return Invite{}, fmt.Errorf("testenv: %s waiting for an invite: %w", c.cli.UserID, ctx.Err())
		}
	}
}

// describe summarises a room's messages for failure output. Bodies are test
// data, so showing them here helps and reveals nothing.
func (c *Client) describe(room id.RoomID) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var b strings.Builder
	for i, m := range c.msgs[room] {
		fmt.Fprintf(&b, "\n  #%d %s encrypted=%v: %q", i, m.Sender, m.Encrypted, m.Body)
	}
	fmt.Fprintf(&b, "\n  cursor=%d undecryptable=%d", c.cursor[room], len(c.undecryptable))
	return b.String()
}
