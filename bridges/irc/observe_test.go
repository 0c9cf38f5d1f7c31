package irc

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"switchboard/bot"
	"switchboard/internal/ircnick"
	"switchboard/internal/testenv"
)

// What the tests observe instead of sleeping: the bot's decisions to hold a
// message, the whole conversation a requester had (not only what Expect's
// cursor passed over), and a core clock that moves only when told.

// sendLog is the bridge as the outbox sees it, noting each message held because
// its recipient was away: the moment the bot decided not to send, which a test
// waits for instead of watching a silence window.
type sendLog struct {
	*Bridge
	mu      sync.Mutex
	held    []bot.Outgoing
	changed chan struct{}
}

func (s *sendLog) Send(ctx context.Context, o bot.Outgoing) error {
	err := s.Bridge.Send(ctx, o)
	if errors.Is(err, bot.ErrRecipientAway) {
		s.mu.Lock()
		s.held = append(s.held, o)
		close(s.changed)
		s.changed = make(chan struct{})
		s.mu.Unlock()
	}
	return err
}

// waitHeld waits until n different messages for conv have been tried and held
// for an away recipient, counting from now: the outbox tries waiting messages at
// each poll, and is asked to poll at once.
func (b *deskBot) waitHeld(conv string, n int) {
	b.t.Helper()
	b.sends.mu.Lock()
	from := len(b.sends.held)
	b.sends.mu.Unlock()
	b.br.outbox.Kick()
	deadline := time.After(15 * time.Second)
	for {
		b.sends.mu.Lock()
		ids := map[int64]bool{}
		for _, o := range b.sends.held[from:] {
			if o.Conversation == conv {
				ids[o.ID] = true
			}
		}
		changed := b.sends.changed
		b.sends.mu.Unlock()
		if len(ids) >= n {
			return
		}
		select {
		case <-changed:
		case <-deadline:
			b.t.Fatalf("%d messages for %s were held within 15 s, want %d", len(ids), conv, n)
		}
	}
}

// fromBot is every message the bot sent this connection so far, in order.
func (r *requester) fromBot() []string {
	return botTexts(r.c.Messages(), r.bot)
}

// firstAnswer waits for the first safety question and returns every line the bot has
// sent so far, failing the test if they are more than max or the question is cut.
func (r *requester) firstAnswer(max int) []string {
	r.t.Helper()
	q := r.expect("1 of 4")
	lines := r.fromBot()
	if len(lines) > max {
		r.t.Errorf("the first answer is %d lines, want at most %d: %q", len(lines), max, lines)
	}
	if !strings.HasSuffix(strings.TrimSpace(q.Text), "?") || !strings.Contains(q.Text, "1 of 4. Is anyone at risk") {
		r.t.Errorf("the safety question is not whole on its line: %q", q.Text)
	}
	return lines
}

func botTexts(msgs []testenv.IRCMsg, bot string) []string {
	var out []string
	for _, m := range msgs {
		if ircnick.Fold(m.From) == ircnick.Fold(bot) {
			out = append(out, m.Text)
		}
	}
	return out
}

// waitAll waits until each of substrs is in a message from the bot, wherever it
// is in the conversation (Expect's cursor would skip what came out of order),
// and returns what the bot sent.
func (r *requester) waitAll(substrs ...string) []string {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), r.c.ExpectTimeout)
	defer cancel()
	msgs, err := r.c.WaitUntil(ctx, func(all []testenv.IRCMsg) bool {
		texts := botTexts(all, r.bot)
		for _, s := range substrs {
			if !slices.ContainsFunc(texts, func(t string) bool { return strings.Contains(t, s) }) {
				return false
			}
		}
		return true
	})
	if err != nil {
		r.t.Fatalf("waiting for %q: %v", substrs, err)
	}
	return botTexts(msgs, r.bot)
}

// waitMessages waits until the bot has sent this connection n messages, and
// returns them (and any that came with them).
func (r *requester) waitMessages(n int) []string {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), r.c.ExpectTimeout)
	defer cancel()
	msgs, err := r.c.WaitUntil(ctx, func(all []testenv.IRCMsg) bool { return len(botTexts(all, r.bot)) >= n })
	if err != nil {
		r.t.Fatalf("waiting for %d messages from the bot: %v", n, err)
	}
	return botTexts(msgs, r.bot)
}

// onceInOrder checks that each of substrs is in exactly one of texts, and that
// they came in the order given.
func onceInOrder(t *testing.T, texts []string, substrs ...string) {
	t.Helper()
	last := -1
	for _, s := range substrs {
		at := -1
		for i, text := range texts {
			if strings.Contains(text, s) {
				if at >= 0 {
					t.Errorf("%q came twice (messages %d and %d of %q)", s, at, i, texts)
				}
				at = i
			}
		}
		if at < 0 {
			t.Errorf("%q never came: %q", s, texts)
			continue
		}
		if at < last {
			t.Errorf("%q came before what should precede it: %q", s, texts)
		}
		last = at
	}
}

// exactly checks that texts are the messages described by want, one substring
// each, in that order: nothing lost, nothing twice, nothing overtaken.
func exactly(t *testing.T, texts []string, want ...string) {
	t.Helper()
	ok := len(texts) == len(want)
	for i := 0; ok && i < len(want); i++ {
		ok = strings.Contains(texts[i], want[i])
	}
	if !ok {
		t.Errorf("the bot sent %q, want messages with %q in that order", texts, want)
	}
}

// never checks that none of texts contains any of substrs.
func never(t *testing.T, texts []string, substrs ...string) {
	t.Helper()
	for _, text := range texts {
		for _, s := range substrs {
			if strings.Contains(text, s) {
				t.Errorf("unexpected %q in %q", s, texts)
			}
		}
	}
}

// testClock is the core's clock in tests that need time to pass only when
// they say so: it stands still until Advance.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func newTestClock() *testClock { return &testClock{now: time.Now()} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
