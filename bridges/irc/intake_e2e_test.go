package irc

import (
	"context"
	"strings"
	"testing"
	"time"

	"switchboard/bot"
	"switchboard/internal/testenv"
)

// An identified requester goes through the whole intake over PRIVMSG; they are
// their services account, and what they wrote never reaches the log.
func TestIdentifiedRequesterCompletesIntake(t *testing.T) {
	t.Parallel()
	b := startBot(t, testenv.IRCNetwork(t))
	if s := b.br.current(); !s.accountTag || s.monitorMax == 0 {
		t.Errorf("caps not negotiated: %+v", s)
	}
	r := b.newRequester(t, "carol", true)
	r.say("hello, I need help")
	// The whole first answer in at most two lines (a line a second is all Libera.Chat
	// allows after a burst), the safety question whole on the last.
	first := r.firstAnswer(2)
	for _, want := range []string{"not an emergency service", "not end-to-end encrypted", "@switchboard:example.net", "four short questions"} {
		if !strings.Contains(strings.Join(first, " "), want) {
			t.Errorf("the first answer does not say %q: %q", want, first)
		}
	}
	r.answer("no", "2 of 4")
	r.answer("no", "3 of 4")
	r.answer("no", "4 of 4")
	r.answer("no", "what happened")
	story := "An editor called Zebulon follows me to every article and reverts my edits with insults."
	r.answer(story, "usernames")
	r.answer("Zebulon_the_troll", "Which wiki")
	r.answer("en.wikipedia.org", "language")
	r.answer("English", "Zebulon the troll")
	r.answer("yes", "Your request is open")
	r.answer("!status", "waiting for a volunteer")
	acct := r.c.Account()
	if n := b.count(`SELECT count(*) FROM cases c JOIN people p ON p.id = c.person_id
		WHERE p.platform = 'irc' AND p.external_id = $1 AND NOT c.unidentified AND c.state = 'queued'`, acct); n != 1 {
		t.Errorf("%d queued cases for account %s", n, acct)
	}
	if logs := b.logs.String(); strings.Contains(logs, "Zebulon") || strings.Contains(logs, "insults") {
		t.Error("the bot's log contains what the requester wrote")
	}
}

// Someone without a services account is told once that the request is tied to
// this connection, and is helped all the same; the request is marked for staff.
func TestUnidentifiedRequesterWarnedAndHelped(t *testing.T) {
	t.Parallel()
	b := startBot(t, testenv.IRCNetwork(t))
	r := b.newRequester(t, "anon", false)
	r.say("hi")
	first := r.firstAnswer(3) // the warning about identifying is one paragraph more
	for _, want := range []string{"not end-to-end encrypted", "NickServ IDENTIFY"} {
		if !strings.Contains(strings.Join(first, " "), want) {
			t.Errorf("the first answer does not say %q: %q", want, first)
		}
	}
	r.answer("no", "2 of 4")
	r.answer("no", "3 of 4")
	onceInOrder(t, r.fromBot(), "NickServ IDENTIFY", "1 of 4", "2 of 4", "3 of 4") // told once, not at each answer
	if n := b.count(`SELECT count(*) FROM intakes i JOIN people p ON p.id = i.person_id
		WHERE i.unidentified AND p.external_id LIKE '~' || $1 || '!%'`, r.c.Nick()); n != 1 {
		t.Errorf("%d unidentified intakes tied to the connection", n)
	}
}

// A nick change does not change who the requester is; whoever takes the old nick
// afterwards is a stranger to the bot and sees nothing of the case.
func TestNickChangeKeepsIdentityAndOldNickSeesNothing(t *testing.T) {
	t.Parallel()
	b := startBot(t, testenv.IRCNetwork(t))
	r := b.newRequester(t, "dana", true)
	r.answer("hello", "1 of 4")
	r.answer("no", "2 of 4")
	old := r.c.Nick()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.c.SetNick(ctx, uniqueNick("dana")); err != nil {
		t.Fatal(err)
	}
	r.answer("no", "3 of 4") // the same intake, on the new nick

	// A stranger takes the old nick (it is the account name, too) and asks.
	thief := &requester{t: t, c: testenv.NewIRCClient(t, b.net, old, "", ""), bot: b.nick}
	thief.answer("!status", "no open request")
	thief.answer("!cancel", "nothing to withdraw")
	for _, m := range thief.c.Messages() {
		if strings.Contains(m.Text, "of 4") || strings.Contains(m.Text, "SB-") {
			t.Errorf("the stranger on the old nick saw %q", m.Text)
		}
	}
	if got := b.intakeState(r.c.Account()); !strings.HasPrefix(got, "q_illegal:") {
		t.Errorf("the requester's intake is at %s", got)
	}
	r.answer("no", "4 of 4")

	// An unidentified person's request is tied to the nick: after a change, a reply
	// still due for the old session goes nowhere, even to whoever has that nick now.
	anon := b.newRequester(t, "eve", false)
	anon.answer("hello", "1 of 4")
	var session string
	if err := b.st.DB.Get(&session, `SELECT external_id FROM people WHERE external_id LIKE '~' || $1 || '!%'`, anon.c.Nick()); err != nil {
		t.Fatal(err)
	}
	anonOld := anon.c.Nick()
	anon.c.Quit()
	waitFor(t, func() bool { _, ok := b.br.dir.sessionNick(session); return !ok })
	taker := &requester{t: t, c: testenv.NewIRCClient(t, b.net, anonOld, "", ""), bot: b.nick}
	if err := b.svc.Handle(ctx, bot.Inbound{Platform: bot.IRC, EventID: "late-" + session, Sender: session,
		Conversation: session, Text: "!status", Unidentified: true}); err != nil {
		t.Fatal(err)
	}
	// The reply has left the outbox; had it been sent to the nick, it would
	// reach the taker before anything the bot writes them afterwards.
	waitFor(t, func() bool { return b.count(`SELECT count(*) FROM outbox`) == 0 })
	taker.answer("!status", "no open request")
	never(t, taker.fromBot(), "still gathering", "of 4")
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// On a server without account-tag the bot asks WHOIS (330) who a sender is.
func TestWhoisFallbackWithoutAccountTag(t *testing.T) {
	t.Parallel()
	b := startBot(t, testenv.IRCNetwork(t), func(c *Config) { c.withoutAccountTag = true })
	if s := b.br.current(); s == nil || s.accountTag {
		t.Fatal("account-tag was negotiated")
	}
	r := b.newRequester(t, "ivy", true)
	r.answer("hello", "1 of 4")
	for _, m := range r.c.Messages() {
		if strings.Contains(m.Text, "NickServ IDENTIFY") {
			t.Error("an identified requester was treated as unidentified")
		}
	}
	r.answer("no", "2 of 4")
	if got := b.intakeState(r.c.Account()); !strings.HasPrefix(got, "q_minor:") {
		t.Errorf("intake of the account: %s", got)
	}
	anon := b.newRequester(t, "jay", false)
	anon.say("hello")
	anon.expect("NickServ IDENTIFY")
}

// With irc.tls the bot connects over TLS and verifies the server's certificate.
func TestTLS(t *testing.T) {
	t.Parallel()
	n := testenv.IRCNetwork(t)
	b := startBot(t, n, func(c *Config) { c.Server, c.TLS, c.tlsRoots = n.TLSAddr(), true, n.CertPool() })
	r := b.newRequester(t, "quinn", true)
	r.answer("hello", "1 of 4")

	// A certificate the bot cannot verify is refused; it keeps trying and never
	// connects: after two refused attempts, still no connection.
	bad := newDeskBot(t, n, func(c *Config) { c.Server, c.TLS = n.TLSAddr(), true })
	bad.waitLog("certificate signed by unknown authority", 2, 20*time.Second)
	if got := bad.br.Connections(); got != 0 {
		t.Errorf("an unverifiable certificate was accepted (%d connections)", got)
	}
}

// A story pasted into an IRC client arrives as a burst of lines; with the paste
// window on, they make one story, and only the next line after a pause answers the
// next question. Without it (the control) the second line would be the usernames.
// The core's clock stands still unless the test moves it: the lines of the paste
// are within the window however slowly a loaded machine passes them on, and a
// person reading a question is outside it however fast the script answers.
func TestPastedStoryOverIRC(t *testing.T) {
	t.Parallel()
	const window = time.Second
	clock := newTestClock()
	b := startBotCore(t, testenv.IRCNetwork(t), func(c *coreSetup) { c.IRCPasteWindow, c.now = window, clock.Now })
	r := b.newRequester(t, "paster", true)
	reads := func(text, want string) { // a person reads the question, then answers
		t.Helper()
		clock.Advance(2 * window)
		r.answer(text, want)
	}
	r.say("hello")
	r.expect("1 of 4")
	reads("no", "2 of 4")
	reads("no", "3 of 4")
	reads("no", "4 of 4")
	reads("no", "what happened")
	clock.Advance(2 * window)
	paste := []string{"Since May an editor reverts all my edits.", "He calls me names in edit summaries.", "Yesterday he posted on my talk page again."}
	for _, l := range paste {
		r.say(l) // one PRIVMSG per line, at once, as a client sends a paste
	}
	r.expect("usernames")
	// The clock moves on only once the core has taken every line of the paste.
	continued := func() int { return b.count(`SELECT count(*) FROM case_events WHERE kind = 'continued'`) }
	for deadline := time.Now().Add(10 * time.Second); continued() < len(paste)-1; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d lines continued the story, want %d", continued(), len(paste)-1)
		}
	}
	reads("Zebulon", "Which wiki")
	reads("en.wikipedia.org", "language")
	reads("English", "Shall I open")
	summary := strings.Join(r.fromBot(), "\n")
	for _, l := range paste {
		if !strings.Contains(summary, l) {
			t.Errorf("the summary lacks a line of the story: %q", l)
		}
	}
	if got := continued(); got != len(paste)-1 {
		t.Errorf("%d lines continued the story, want %d", got, len(paste)-1)
	}
}
