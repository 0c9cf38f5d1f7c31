package irc

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ergochat/irc-go/ircmsg"

	"switchboard/internal/testenv"
)

// Formatting codes, CTCP, control bytes, overlong lines and invalid UTF-8 get a
// clear answer or silence, and change nothing they should not.
func TestBadInput(t *testing.T) {
	t.Parallel()
	b := startBot(t, testenv.IRCNetwork(t))
	r := b.newRequester(t, "frank", true)
	acct := r.c.Account()
	r.answer("hello", "1 of 4")
	// Colours and bold around an answer are stripped: it is read as "no".
	r.answer("\x02\x0304,01no\x03\x02", "2 of 4")
	before := b.intakeState(acct)
	unchanged := func(what string) {
		t.Helper()
		if got := b.intakeState(acct); got != before {
			t.Fatalf("%s changed the intake: %s -> %s", what, before, got)
		}
	}
	// CTCP VERSION and PING get a CTCP answer by NOTICE; other CTCP, silence.
	r.say("\x01VERSION\x01")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := r.c.WaitFor(ctx, func(m testenv.IRCMsg) bool {
		return m.Command == "NOTICE" && strings.HasPrefix(m.Text, "\x01VERSION Switchboard")
	}); err != nil {
		t.Fatal(err)
	}
	r.say("\x01PING 12345\x01")
	if _, err := r.c.WaitFor(ctx, func(m testenv.IRCMsg) bool { return m.Command == "NOTICE" && m.Text == "\x01PING 12345\x01" }); err != nil {
		t.Fatal(err)
	}
	r.say("\x01DCC SEND evil.exe 2130706433 4000 123\x01")
	// Silence, anchored: whatever the bot did with the DCC, it did before it
	// answered the next line, which comes by the same way.
	seen := len(r.fromBot())
	r.answer("!status", "still gathering")
	if got := r.fromBot()[seen:]; !strings.Contains(got[0], "still gathering") {
		t.Errorf("the bot answered a DCC offer: %q", got)
	}
	unchanged("CTCP")

	cases := []struct{ name, raw, want string }{
		{"only formatting", "\x02\x1d\x1f\x0f\x0312", "looked empty"},
		{"control bytes", "\x07\x08\x1b[31m \x7f", "did not understand"},
		// Servers end a line at NUL: what comes after it never arrives.
		{"NUL inside", "maybe\x00no", "did not understand"},
		{"invalid UTF-8", "\xff\xfe\xc3(", "did not understand"},
		{"a 512-byte line", strings.Repeat("é", 250), "did not understand"},
		{"HTML", "<b>yes</b>", "did not understand"},
	}
	for _, tc := range cases {
		if err := r.c.SendRaw("PRIVMSG " + b.nick + " :" + tc.raw); err != nil {
			t.Fatal(err)
		}
		r.expect(tc.want)
		unchanged(tc.name)
	}
	if r.c.Closed() {
		t.Fatal("the requester was disconnected")
	}
	r.answer("no", "3 of 4")

	// An unidentified nick that looks like the requester (their account name with
	// a twist, or a volunteer's) has no say over their request.
	fake := &requester{t: t, c: testenv.NewIRCClient(t, b.net, acct+"_", "", ""), bot: b.nick}
	fake.answer("!cancel", "nothing to withdraw")
	// Volunteer commands from IRC are not commands at all: roles belong to Matrix IDs.
	fake.answer("!accept SB-0001", "do not know the command !accept")
	fake.answer("!on", "do not know the command !on")
	if got := b.intakeState(acct); !strings.HasPrefix(got, "q_illegal:") {
		t.Errorf("the impostor changed the intake: %s", got)
	}
}

// Long replies are cut under the line limit, on word boundaries, paragraphs kept.
func TestLongReplySplitUnderLineLimit(t *testing.T) {
	t.Parallel()
	b := startBot(t, testenv.IRCNetwork(t))
	r := b.newRequester(t, "gina", true)
	r.answer("hello", "1 of 4")
	for _, want := range []string{"2 of 4", "3 of 4", "4 of 4", "what happened"} {
		r.answer("no", want)
	}
	// As long as one line from a client can be (the server cuts longer ones).
	words := make([]string, 0, 50)
	for i := range 50 {
		words = append(words, "wörd"+itoa(i))
	}
	story := strings.Join(words, " ")
	r.answer(story, "usernames")
	r.answer("none", "Which wiki")
	r.answer("meta.wikimedia.org", "language")
	r.say("en")
	var got []string
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for !strings.Contains(strings.Join(got, " "), "wörd49") {
		m, err := r.c.WaitFor(ctx, func(m testenv.IRCMsg) bool { return m.From == b.nick })
		if err != nil {
			t.Fatal(err)
		}
		prefix := ":" + b.nick + "!~switchboa@127.0.0.1 PRIVMSG " + r.c.Nick() + " :"
		if n := len(prefix) + len(m.Text) + 2; n > 512 {
			t.Errorf("a line of %d bytes", n)
		}
		got = append(got, m.Text)
	}
	if joined := strings.Join(got, " "); !strings.Contains(joined, story) {
		t.Errorf("the story was not kept whole across lines")
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// In a public channel the bot answers !help or a mention with one line inviting a
// private message, never repeating what was said, and ignores the rest.
func TestPublicChannelPointer(t *testing.T) {
	t.Parallel()
	channel := "#help-" + randomToken()[:6]
	n := testenv.IRCNetwork(t)
	b := startBot(t, n, func(c *Config) { c.Channels = []string{channel} })
	var a, c, d *testenv.IRCClient
	var wg sync.WaitGroup
	wg.Add(3)
	for _, p := range []**testenv.IRCClient{&a, &c, &d} {
		go func() { defer wg.Done(); *p = testenv.NewIRCClient(t, n, uniqueNick("pub"), "", "") }()
	}
	wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, cl := range []*testenv.IRCClient{a, c, d} {
		if err := cl.Join(ctx, channel); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, func() bool { // the bot has joined
		return strings.Contains(strings.Join(names(ctx, t, a, channel), " "), b.nick)
	})
	if err := a.Privmsg(channel, "just chatting about templates"); err != nil {
		t.Fatal(err)
	}
	if err := c.Privmsg(channel, "!help"); err != nil {
		t.Fatal(err)
	}
	m := d.Expect(t, b.nick, "private message")
	if m.Target != channel || !strings.HasPrefix(m.Text, c.Nick()+":") {
		t.Errorf("pointer %+v", m)
	}
	story := b.nick + ": user Quintessa keeps threatening me on dewiki, what can I do"
	if err := d.Privmsg(channel, story); err != nil {
		t.Fatal(err)
	}
	m = a.Expect(t, b.nick, d.Nick()+": ")
	if strings.Contains(m.Text, "Quintessa") || strings.Contains(m.Text, "dewiki") {
		t.Errorf("the pointer repeats what was said: %q", m.Text)
	}
	// Anchors instead of a silence window. In the channel: a third pointer, to a,
	// comes after anything else the bot said there. In private: each of them
	// asks something, which the bot handles after whatever it did with their
	// channel lines (one person's lines are handled in order).
	if err := a.Privmsg(channel, "!help"); err != nil {
		t.Fatal(err)
	}
	a.Expect(t, b.nick, a.Nick()+": ")
	var inChannel []string
	for _, m := range a.Messages() {
		if m.From == b.nick && m.Target == channel {
			inChannel = append(inChannel, m.Text)
		}
	}
	exactly(t, inChannel, c.Nick()+":", d.Nick()+":", a.Nick()+":")
	for _, cl := range []*testenv.IRCClient{a, c, d} {
		p := &requester{t: t, c: cl, bot: b.nick}
		p.answer("!status", "no open request")
	}
	if n := b.count(`SELECT count(*) FROM intakes`); n != 0 {
		t.Errorf("a channel message reached the core (%d intakes)", n)
	}
	if n := b.count(`SELECT count(*) FROM people`); n != 3 {
		t.Errorf("%d people, want the 3 who wrote in private", n)
	}
}

// names lists a channel's members as the client sees them.
func names(ctx context.Context, t *testing.T, c *testenv.IRCClient, channel string) []string {
	if err := c.SendRaw("NAMES " + channel); err != nil {
		t.Fatal(err)
	}
	m, err := c.WaitLine(ctx, func(m ircmsg.Message) bool { return m.Command == "353" })
	if err != nil {
		t.Fatal(err)
	}
	return strings.Fields(m.Params[len(m.Params)-1])
}
