package irc

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"switchboard/bot"
	"switchboard/internal/testenv"
)

// An IRC server restart mid-conversation loses nothing: a reply due while the
// server is down waits in the outbox and reaches the requester when both are back,
// and the conversation goes on in both directions. When the requester comes back
// on another nick, the reply waits for them and keeps its order.
func TestServerRestartLosesNoMessage(t *testing.T) {
	t.Parallel()
	n := testenv.NewIRCNetwork(t)
	channel := "#restart-help"
	b := startBot(t, n, func(c *Config) { c.Channels = []string{channel} })
	acct, pass := n.NewAccount(t, "hank")
	r := &requester{t: t, c: testenv.NewIRCClient(t, n, acct, acct, pass), bot: b.nick}
	r.answer("hello", "1 of 4")
	r.answer("no", "2 of 4")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// Delivery is at least once: a message whose lines the server had not yet
	// confirmed when the link died is sent again. Crash only once everything
	// sent is confirmed, so that anything sent again is a fault.
	confirmed := func() { waitFor(t, func() bool { return b.count(`SELECT count(*) FROM outbox`) == 0 }) }
	confirmed()

	if err := n.Down(); err != nil {
		t.Fatal(err)
	}
	// A message the bot took just before the crash: its reply is due while the
	// server is away.
	if err := b.svc.Handle(ctx, bot.Inbound{Platform: bot.IRC, EventID: "before-crash-1", Sender: acct, Conversation: acct, Text: "no"}); err != nil {
		t.Fatal(err)
	}
	if err := n.Up(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	b.waitConnections(2)
	t.Logf("the bot was back %v after the server", time.Since(start))
	r = &requester{t: t, c: testenv.NewIRCClient(t, n, acct, acct, pass), bot: b.nick}
	r.expect("3 of 4")
	t.Logf("the queued reply arrived %v after the server was back", time.Since(start))
	r.answer("no", "4 of 4")
	// The new connection got the queued reply, then the next, once each; nothing
	// the bot had sent before the crash came again.
	exactly(t, r.fromBot(), "3 of 4", "4 of 4")
	// The bot is back in its channel.
	if err := r.c.Join(ctx, channel); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return strings.Contains(strings.Join(names(ctx, t, r.c, channel), " "), b.nick) })
	confirmed()

	// Again, and this time the requester returns on another nick: the bot cannot
	// know it is them until they write, then both replies come, in order.
	if err := n.Restart(); err != nil {
		t.Fatal(err)
	}
	if err := b.svc.Handle(ctx, bot.Inbound{Platform: bot.IRC, EventID: "before-crash-2", Sender: acct, Conversation: acct, Text: "!status"}); err != nil {
		t.Fatal(err)
	}
	b.waitConnections(3)
	r = &requester{t: t, c: testenv.NewIRCClient(t, n, uniqueNick("hank"), acct, pass), bot: b.nick}
	// With them connected, a try of the reply finds them away and holds it:
	// nothing was sent by that try, and nothing before it.
	b.waitHeld(acct, 1)
	if got := r.fromBot(); len(got) != 0 {
		t.Errorf("the bot wrote to a nick it could not know was theirs: %q", got)
	}
	r.say("no")
	// The status reply (the question it restates on the same line: a private reply's
	// paragraphs are packed into as few lines as fit), then the newer one, which did
	// not overtake it.
	msgs := r.waitMessages(2)
	exactly(t, msgs, "still gathering", "what happened")
	if len(msgs) == 2 && !strings.Contains(msgs[0], "4 of 4") {
		t.Errorf("the status does not restate the question: %q", msgs[0])
	}
	// Sent rows are deleted just after sending.
	waitFor(t, func() bool { return b.count(`SELECT count(*) FROM outbox`) == 0 })
}

// 30 people writing 10 messages each at once are all answered in full, and the
// bot is never disconnected for flooding: its replies queue behind the token bucket.
func TestFloodOf300MessagesFrom30Clients(t *testing.T) {
	t.Parallel()
	n := testenv.IRCNetwork(t)
	b := startBot(t, n)
	const people = 30
	script := []string{"hello", "no", "no", "no", "no", "Someone keeps reverting my edits and insulting me.",
		"Example troll", "en.wikipedia.org", "en", "yes"}
	clients := make([]*testenv.IRCClient, people)
	var wg sync.WaitGroup
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			acct, pass := n.NewAccount(t, "flood")
			clients[i] = testenv.NewIRCClient(t, n, acct, acct, pass)
			clients[i].ExpectTimeout = 3 * time.Minute
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	start := time.Now()
	for _, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, text := range script {
				if err := c.Privmsg(b.nick, text); err != nil {
					t.Error(err)
					return
				}
			}
			c.Expect(t, b.nick, "Your request is open")
		}()
	}
	wg.Wait()
	t.Logf("%d messages from %d people answered in %v", people*len(script), people, time.Since(start))
	if got := b.br.Connections(); got != 1 {
		t.Errorf("the bot connected %d times: it was disconnected", got)
	}
	if strings.Contains(b.logs.String(), "IRC connection ended") {
		t.Error("the bot's connection ended during the flood")
	}
	if got := b.count(`SELECT count(*) FROM cases WHERE state = 'queued'`); got != people {
		t.Errorf("%d cases opened, want %d", got, people)
	}
	for _, c := range clients {
		for _, m := range c.Messages() {
			if strings.Contains(m.Text, "did not understand") || strings.Contains(m.Text, "Sorry") {
				t.Errorf("%s got %q", c.Nick(), m.Text)
			}
		}
	}
}

// A requester who drops off gets nothing lost: replies due while they are away
// wait in the outbox and arrive, in order, once their account is back online.
func TestRequesterOfflineMessagesKept(t *testing.T) {
	t.Parallel()
	n := testenv.IRCNetwork(t)
	b := startBot(t, n)
	acct, pass := n.NewAccount(t, "kim")
	r := &requester{t: t, c: testenv.NewIRCClient(t, n, acct, acct, pass), bot: b.nick}
	r.answer("hello", "1 of 4")
	r.c.Close() // gone without a QUIT, as when a laptop sleeps
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i, text := range []string{"no", "!status"} {
		if err := b.svc.Handle(ctx, bot.Inbound{Platform: bot.IRC, EventID: "away-" + itoa(i), Sender: acct, Conversation: acct, Text: text}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, func() bool { _, ok := b.br.dir.accountNick(acct); return !ok })
	// Both replies were tried and held, not dropped.
	b.waitHeld(acct, 2)
	if got := b.count(`SELECT count(*) FROM outbox`); got != 2 {
		t.Fatalf("%d messages waiting, want 2", got)
	}
	r = &requester{t: t, c: testenv.NewIRCClient(t, n, acct, acct, pass), bot: b.nick}
	// The reply, then the status that restates the question (on its line).
	msgs := r.waitMessages(2)
	exactly(t, msgs, "2 of 4", "still gathering")
	if len(msgs) == 2 && !strings.Contains(msgs[1], "2 of 4") {
		t.Errorf("the status does not restate the question: %q", msgs[1])
	}
}

// A first connection that fails is retried with backoff (irc-go's Loop would not).
func TestFirstConnectFailureRetried(t *testing.T) {
	t.Parallel()
	n := testenv.NewIRCNetwork(t)
	b := newDeskBot(t, n, func(*Config) { // once its account is registered
		if err := n.Down(); err != nil {
			t.Fatal(err)
		}
	})
	b.waitLog("IRC connection ended or failed", 1, 15*time.Second)
	if err := n.Up(); err != nil {
		t.Fatal(err)
	}
	b.waitConnections(1)
	r := b.newRequester(t, "otto", true)
	r.answer("hello", "1 of 4")
}

// Logging out of services (ACCOUNT *) makes the account unreachable on that nick:
// a reply waits; identifying again brings it.
func TestLogoutAndLoginAgain(t *testing.T) {
	t.Parallel()
	n := testenv.IRCNetwork(t)
	b := startBot(t, n)
	acct, pass := n.NewAccount(t, "pia")
	r := &requester{t: t, c: testenv.NewIRCClient(t, n, acct, acct, pass), bot: b.nick}
	r.answer("hello", "1 of 4")
	if err := r.c.Privmsg("NickServ", "LOGOUT"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { _, ok := b.br.dir.accountNick(acct); return !ok })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := b.svc.Handle(ctx, bot.Inbound{Platform: bot.IRC, EventID: "logout-1", Sender: acct, Conversation: acct, Text: "no"}); err != nil {
		t.Fatal(err)
	}
	// The bot tried the reply and held it: nothing went to the logged-out nick.
	b.waitHeld(acct, 1)
	before := r.fromBot()
	never(t, before, "2 of 4")
	if err := r.c.Privmsg("NickServ", "IDENTIFY "+acct+" "+pass); err != nil {
		t.Fatal(err)
	}
	exactly(t, r.waitAll("2 of 4")[len(before):], "2 of 4")
}

// After a quick restart the bot's old connection may still hold its nick; the bot
// has it freed with NickServ GHOST and takes it back, so people reach it there.
func TestGhostNickRegained(t *testing.T) {
	t.Parallel()
	n := testenv.IRCNetwork(t)
	acct, pass := n.NewAccount(t, "sbghost")
	ghost := testenv.NewIRCClient(t, n, acct, acct, pass) // the bot's previous connection
	b := startBot(t, n, func(c *Config) { c.Nick, c.Account, c.Password = acct, acct, pass })
	waitFor(t, ghost.Closed)
	waitFor(t, func() bool { s := b.br.current(); return s != nil && s.conn.CurrentNick() == acct })
	b.nick = acct
	r := b.newRequester(t, "rita", true)
	r.answer("hello", "1 of 4")
}
