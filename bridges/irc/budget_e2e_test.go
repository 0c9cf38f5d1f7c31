package irc

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"switchboard/bot"
	"switchboard/internal/testenv"
)

// 60 new nicks write "hi" at once to a bot allowed two lines a second. Each costs a
// MONITOR, which used to go before every reply at two tokens: nobody heard anything
// for a minute. Now replies go as soon as they are due, control lines take at most
// their share of the budget while replies wait, and every nick is still watched.
// Measured on the lines the writer picks, in order, not on the wall clock.
func TestNewNickFloodDoesNotHoldReplies(t *testing.T) {
	t.Parallel()
	n := testenv.IRCNetwork(t)
	b := startBot(t, n, func(c *Config) { c.FloodRate, c.FloodBurst = 2, 4 })
	type pick struct {
		l       outLine
		waiting bool // replies were waiting when the writer picked it
	}
	var picksMu sync.Mutex
	var picks []pick
	b.br.out.mu.Lock()
	b.br.out.trace = func(l outLine, waiting bool) {
		picksMu.Lock()
		picks = append(picks, pick{l, waiting})
		picksMu.Unlock()
	}
	b.br.out.mu.Unlock()
	const people = 60
	clients := make([]*testenv.IRCClient, people)
	errs := make([]error, people)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			clients[i], errs[i] = testenv.DialIRC(ctx, n.Addr(), uniqueNick("new"), "", "")
		}()
	}
	wg.Wait()
	for i, c := range clients {
		if c != nil {
			t.Cleanup(c.Close)
		}
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
	}
	start := time.Now()
	for i, c := range clients {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = c.Privmsg(b.nick, "hi") }()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	first := time.Duration(-1)
	for _, c := range clients {
		m, err := c.WaitFor(ctx, func(m testenv.IRCMsg) bool { return m.From == b.nick && m.Command == "PRIVMSG" })
		if err != nil {
			t.Fatalf("%s heard nothing from the bot: %v", c.Nick(), err)
		}
		if at := m.Time.Sub(start); first < 0 || at < first {
			first = at
		}
		// A line shared among several recipients reaches each addressed to them alone.
		if !strings.EqualFold(m.Target, c.Nick()) {
			t.Errorf("%s got a line addressed to %q", c.Nick(), m.Target)
		}
	}
	t.Logf("the first reply came after %s (informative: the check is on the order of lines)", first.Round(time.Millisecond))
	waitFor(t, func() bool {
		b.br.dir.mu.Lock()
		defer b.br.dir.mu.Unlock()
		for _, c := range clients {
			if !b.br.dir.watching[b.br.dir.fold(c.Nick())] {
				return false
			}
		}
		return true
	})

	// While replies waited, control lines took at most their share of the tokens
	// (one line's worth of slack), and the first reply went after at most one of them.
	picksMu.Lock()
	defer picksMu.Unlock()
	spentCtl, spentAll, ctlBeforeReply, replied, lines := 0, 0, 0, false, 0
	for _, p := range picks {
		if !p.waiting {
			continue
		}
		c := lineCost(p.l)
		spentAll += c
		if p.l.cmd == "PRIVMSG" {
			replied = true
		} else {
			spentCtl += c
			lines++
			if !replied {
				ctlBeforeReply++
			}
		}
		if limit := controlShare*float64(spentAll) + 2; float64(spentCtl) > limit {
			t.Fatalf("control lines had taken %d of %d tokens while replies waited (%d lines); want at most a third", spentCtl, spentAll, lines)
		}
	}
	if !replied || ctlBeforeReply > 1 {
		t.Errorf("%d control lines went while replies waited before the first reply (replied: %v); want at most one", ctlBeforeReply, replied)
	}
	// The same greeting to many went out as lines naming several of them.
	firstLines := 0
	for _, p := range picks {
		if p.l.cmd == "PRIVMSG" && p.l.first {
			firstLines++
		}
	}
	if firstLines >= people {
		t.Errorf("%d first lines written for %d people: none was shared", firstLines, people)
	}
	t.Logf("%d people's first lines went out in %d lines", people, firstLines)
}

// A reply that waits behind the flood limit is written only while its nick is still
// the recipient's: when they quit and a stranger takes the nick, the rest of the reply
// goes nowhere (it waits for them in the outbox).
func TestQueuedReplyNotWrittenToTheNextHolderOfANick(t *testing.T) {
	t.Parallel()
	n := testenv.IRCNetwork(t)
	b := startBot(t, n, func(c *Config) { c.FloodRate, c.FloodBurst = 1, 2 })
	r := b.newRequester(t, "lena", true)
	r.answer("hello", "1 of 4")
	acct, nick := r.c.Account(), r.c.Nick()
	waitFor(t, func() bool { // watched: the server will say when the nick is free
		b.br.dir.mu.Lock()
		defer b.br.dir.mu.Unlock()
		return b.br.dir.watching[b.br.dir.fold(nick)]
	})

	parts := make([]string, 20)
	for i := range parts {
		parts[i] = fmt.Sprintf("part %02d of a long reply", i+1)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	sent := make(chan error, 1)
	go func() {
		sent <- b.br.Send(ctx, bot.Outgoing{ID: 1 << 40, Platform: bot.IRC, Conversation: acct, Plain: strings.Join(parts, "\n")})
	}()
	r.expect("part 01")
	r.c.Quit()
	waitFor(t, func() bool { _, ok := b.br.dir.accountNick(acct); return !ok })

	stranger := &requester{t: t, c: testenv.NewIRCClient(t, n, nick, "", ""), bot: b.nick}
	stranger.c.ExpectTimeout = time.Minute // time for every part to come first, if it were to
	// The stranger's answer queues behind whatever is left for the nick, so when it
	// comes, any part that was to be written to the nick would have come first.
	stranger.answer("hello", "NickServ IDENTIFY")
	never(t, stranger.fromBot(), "part ")
	select {
	case err := <-sent:
		if !errors.Is(err, bot.ErrRecipientAway) {
			t.Errorf("the interrupted reply ended with %v; want it kept for the requester", err)
		}
	case <-ctx.Done():
		t.Error("the interrupted reply never ended")
	}
}
