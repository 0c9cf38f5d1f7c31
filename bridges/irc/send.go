package irc

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"switchboard/bot"
)

// Send delivers one outbox message as PRIVMSG lines to the nick the
// conversation maps to now. A requester who is not reachable (offline, or on a
// nick the bot cannot vouch for) gets bot.ErrRecipientAway: the message stays in
// the outbox and the bridge kicks it when the person is back. A message for an
// unidentified session whose connection has ended is dropped (ErrPermanent):
// nobody can ever prove to be that person again.
//
// Delivery is at least once: if the link drops after some lines of a message
// went out, the whole message is sent again later.
func (b *Bridge) Send(ctx context.Context, o bot.Outgoing) (err error) {
	nick, err := b.recipient(o.Conversation)
	if err != nil {
		if errors.Is(err, bot.ErrRecipientAway) {
			b.markAway(o.Conversation, o.ID)
		}
		return err
	}
	if b.away.olderWaiting(o.Conversation, o.ID) {
		// An older message bounced while the person was away; the outbox picks up
		// rows in ID order, so it is asked to send them all again, oldest first.
		b.away.add(o.Conversation, o.ID)
		b.outbox.Kick()
		return bot.ErrRecipientAway
	}
	defer func() {
		if !errors.Is(err, bot.ErrRecipientAway) {
			b.away.done(o.Conversation, o.ID)
		}
	}()
	s := b.waitConnected(ctx, 10*time.Second)
	if s == nil {
		return fmt.Errorf("%w: not connected to IRC", bot.ErrUnavailable)
	}
	// Packed for the longest nick the network allows (NICKLEN, up to 30), not for this
	// recipient's: the same answer then makes the same lines for everyone, and the
	// writer can send a line to several people at once (TARGMAX).
	budget := lineBudget(s.conn.CurrentNick(), nick, s.userLen, s.hostLen)
	if pad := min(s.nickLen, maxPackedNick) - len(nick); pad > 0 {
		budget -= pad
	}
	lines := PackLines(o.Plain, budget)
	if len(lines) == 0 {
		return nil
	}
	done := make(chan error, len(lines))
	out := make([]outLine, len(lines))
	// Each line may wait behind the flood limit; it is written only if the nick is
	// still the recipient's then.
	check := func() error { return b.dir.holds(o.Conversation, nick) }
	group := &lineGroup{}
	for i, l := range lines {
		out[i] = outLine{cmd: "PRIVMSG", params: []string{nick, l}, done: done, check: check, group: group, first: i == 0}
	}
	b.out.queue(out)
	var first error
	for range lines {
		select {
		case e := <-done:
			if first == nil {
				first = e
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	switch {
	case first == nil:
		return nil
	case errors.Is(first, errNoSuchNick):
		b.dir.gone(nick)
		b.markAway(o.Conversation, o.ID)
		return fmt.Errorf("%w: %s is not online", bot.ErrRecipientAway, nick)
	case errors.Is(first, bot.ErrRecipientAway) || errors.Is(first, errNickChanged):
		// The whole message goes again once they are back: delivery is at least once.
		b.markAway(o.Conversation, o.ID)
		return fmt.Errorf("%w: %s no longer holds the recipient's nick", bot.ErrRecipientAway, nick)
	case errors.Is(first, bot.ErrPermanent):
		return first
	default:
		return fmt.Errorf("%w: %w", bot.ErrUnavailable, first)
	}
}

// Parallel lets many sends be under way at once (bot.Paralleler). Send holds on until
// the server has confirmed the lines, and the flood limit can make that take seconds;
// with the default eight at once, the ninth person writing at the same moment would
// get a first line only after eight whole answers. With room for everyone, all their
// lines are in the writer together, where they take turns.
func (b *Bridge) Parallel() int { return 256 }

var _ bot.Paralleler = (*Bridge)(nil)

// recipient maps a conversation to the nick to write to now.
func (b *Bridge) recipient(conv string) (string, error) {
	if strings.HasPrefix(conv, "~") {
		if nick, ok := b.dir.sessionNick(conv); ok {
			return nick, nil
		}
		return "", fmt.Errorf("%w: the IRC connection this request was tied to has ended", bot.ErrPermanent)
	}
	if nick, ok := b.dir.accountNick(conv); ok {
		return nick, nil
	}
	b.dir.resolve(conv)
	return "", bot.ErrRecipientAway
}

// awayQueue remembers which messages bounced because their recipient was away,
// so that a newer message never overtakes an older one when the person is back.
type awayQueue struct {
	mu sync.Mutex
	m  map[string]map[int64]bool
}

// add notes a message waiting for an away person; fresh is true when it is the first,
// i.e. the person has just been found away.
func (a *awayQueue) add(conv string, id int64) (fresh bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.m == nil {
		a.m = map[string]map[int64]bool{}
	}
	if a.m[conv] == nil {
		a.m[conv] = map[int64]bool{}
		fresh = true
	}
	a.m[conv][id] = true
	return fresh
}

// waiting reports whether messages wait for conv.
func (a *awayQueue) waiting(conv string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.m[conv]) > 0
}

func (a *awayQueue) olderWaiting(conv string, id int64) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	for x := range a.m[conv] {
		if x < id {
			return true
		}
	}
	return false
}

// done: the message was sent, or failed for another reason and is no longer
// waiting for the person (the outbox retries or gives it up on its own).
func (a *awayQueue) done(conv string, id int64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.m[conv], id)
	if len(a.m[conv]) == 0 {
		delete(a.m, conv)
	}
}

// markAway keeps a message for an away person and, the first time, tells the core, so
// the case room of a relayed requester learns that they are offline. Unidentified
// sessions ("~…") are not people who come back.
func (b *Bridge) markAway(conv string, id int64) {
	if b.away.add(conv, id) && !strings.HasPrefix(conv, "~") {
		go func() {
			if err := b.svc.RequesterPresence(context.Background(), bot.IRC, conv, false); err != nil {
				b.log.Warn().Err(err).Msg("Could not tell a case room that its requester is away")
			}
		}()
	}
}
