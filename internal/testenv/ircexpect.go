package testenv

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ergochat/irc-go/ircmsg"

	"switchboard/internal/ircnick"
)

// WaitLine returns the next line from the server, after the line cursor, that
// match accepts, and moves the cursor past it; skipped lines are consumed.
func (c *IRCClient) WaitLine(ctx context.Context, match func(ircmsg.Message) bool) (ircmsg.Message, error) {
	for {
		c.mu.Lock()
		lines, from, changed, closed := c.lines, c.lineCur, c.changed, c.closed
		c.mu.Unlock()
		for i := from; i < len(lines); i++ {
			if match(lines[i]) {
				c.mu.Lock()
				c.lineCur = max(c.lineCur, i+1)
				c.mu.Unlock()
				return lines[i], nil
			}
		}
		if closed {
			return ircmsg.Message{}, fmt.Errorf("connection closed: %v", c.closeErr)
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ircmsg.Message{}, ctx.Err()
		}
	}
}

// WaitFor returns the next PRIVMSG or NOTICE, after the message cursor, that
// match accepts, and moves the cursor past it; like an expect script, the
// messages skipped on the way are consumed.
func (c *IRCClient) WaitFor(ctx context.Context, match func(IRCMsg) bool) (IRCMsg, error) {
	for {
		c.mu.Lock()
		msgs, from, changed, closed := c.msgs, c.cursor, c.changed, c.closed
		c.mu.Unlock()
		for i := from; i < len(msgs); i++ {
			if match(msgs[i]) {
				c.mu.Lock()
				c.cursor = max(c.cursor, i+1)
				c.mu.Unlock()
				return msgs[i], nil
			}
		}
		if closed {
			return IRCMsg{}, fmt.Errorf("testenv: %s: connection closed (%v); seen:%s", c.Nick(), c.closeErr, c.describe())
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return IRCMsg{}, fmt.Errorf("testenv: %s waiting: %w; seen:%s", c.Nick(), ctx.Err(), c.describe())
		}
	}
}

// WaitUntil waits until ok accepts every PRIVMSG and NOTICE received so far,
// whatever the cursor, and returns them. Unlike WaitFor it skips nothing, so a
// test can look at the whole conversation: what came twice, what came first.
func (c *IRCClient) WaitUntil(ctx context.Context, ok func([]IRCMsg) bool) ([]IRCMsg, error) {
	for {
		c.mu.Lock()
		msgs, changed, closed := c.msgs, c.changed, c.closed
		c.mu.Unlock()
		// Messages are only ever appended, so the snapshot is stable.
		if ok(msgs) {
			return append([]IRCMsg(nil), msgs...), nil
		}
		if closed {
			return nil, fmt.Errorf("testenv: %s: connection closed (%v); seen:%s", c.Nick(), c.closeErr, c.describe())
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, fmt.Errorf("testenv: %s waiting: %w; seen:%s", c.Nick(), ctx.Err(), c.describe())
		}
	}
}

// WaitClosed waits until the connection has ended.
func (c *IRCClient) WaitClosed(ctx context.Context) error {
	for {
		c.mu.Lock()
		changed, closed := c.changed, c.closed
		c.mu.Unlock()
		if closed {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("testenv: %s: connection still open: %w", c.Nick(), ctx.Err())
		}
	}
}

// Expect waits up to ExpectTimeout for a PRIVMSG from the nick from that
// contains substr, and fails the test if none comes.
func (c *IRCClient) Expect(tb testing.TB, from, substr string) IRCMsg {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), c.ExpectTimeout)
	defer cancel()
	m, err := c.WaitFor(ctx, func(m IRCMsg) bool {
		return m.Command == "PRIVMSG" && ircnick.Fold(m.From) == ircnick.Fold(from) && strings.Contains(m.Text, substr)
	})
	if err != nil {
		tb.Fatalf("expected a message from %s containing %q: %v", from, substr, err)
	}
	return m
}

// ExpectNone fails the test if a PRIVMSG or NOTICE from the nick from arrives
// within d.
func (c *IRCClient) ExpectNone(tb testing.TB, from string, d time.Duration) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	if m, err := c.WaitFor(ctx, func(m IRCMsg) bool { return ircnick.Fold(m.From) == ircnick.Fold(from) }); err == nil {
		tb.Fatalf("expected silence from %s, got %s %q", from, m.Command, m.Text)
	}
}

// Messages returns every PRIVMSG and NOTICE received so far.
func (c *IRCClient) Messages() []IRCMsg {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]IRCMsg(nil), c.msgs...)
}

// describe lists the messages received, for failure output; they are test data.
func (c *IRCClient) describe() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var b strings.Builder
	for i, m := range c.msgs {
		fmt.Fprintf(&b, "\n  #%d %s %s→%s: %q", i, m.Command, m.From, m.Target, m.Text)
	}
	fmt.Fprintf(&b, "\n  cursor=%d", c.cursor)
	return b.String()
}
