package irc

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"switchboard/bot"
)

// paced is a line as the writer would write it, and when, on a simulated clock.
type paced struct {
	l  outLine
	at time.Duration // since the start
}

// drain writes every queued line the way run does (next, then the line's cost from
// the bucket), on a simulated clock instead of the wall clock, and returns them in
// order. PINGs are left out: they cost the same with or without control lines.
func drain(w *writer) []paced {
	start := time.Unix(0, 0)
	now := start
	var out []paced
	for {
		l, ok := w.next()
		if !ok {
			return out
		}
		now = now.Add(w.lim.ReserveN(now, lineCost(l)).DelayFrom(now))
		out = append(out, paced{l: l, at: now.Sub(start)})
	}
}

// floodOfNewNicks queues what n new nicks each writing "hi" cause: a control line
// per nick (made by control), and a reply of three lines to each.
func floodOfNewNicks(w *writer, n int, control func(nick string)) {
	for i := range n {
		nick := fmt.Sprintf("new%03d", i)
		control(nick)
		w.queue([]outLine{
			{cmd: "PRIVMSG", params: []string{nick, "Hello, this is the help desk."}, done: make(chan error, 1)},
			{cmd: "PRIVMSG", params: []string{nick, "You are not identified."}, done: make(chan error, 1)},
			{cmd: "PRIVMSG", params: []string{nick, "1 of 4"}, done: make(chan error, 1)},
		})
	}
}

// checkBudget asserts what the flood budget owes replies and control lines: the
// first reply goes out at once, control lines never take more than their share of
// the tokens while replies wait (one line's worth of slack), and yet they all go
// out within never.
func checkBudget(t *testing.T, out []paced, nicks int, never time.Duration) {
	t.Helper()
	var firstReply, lastControl time.Duration = -1, 0
	spentCtl, spentAll := 0, 0
	monitored := map[string]bool{}
	repliesLeft := nicks * 3
	for _, p := range out {
		c := lineCost(p.l)
		if p.l.cmd == "PRIVMSG" {
			repliesLeft--
			if firstReply < 0 {
				firstReply = p.at
			}
		} else {
			lastControl = p.at
			for _, n := range strings.Split(p.l.params[len(p.l.params)-1], ",") {
				monitored[n] = true
			}
		}
		if repliesLeft > 0 && firstReply >= 0 {
			// Replies are waiting (the writer saw them all from the start).
			spentAll += c
			if p.l.cmd != "PRIVMSG" {
				spentCtl += c
			}
			if limit := controlShare*float64(spentAll) + 2; float64(spentCtl) > limit {
				t.Fatalf("at %s control lines had taken %d of %d tokens while replies waited; want at most a third", p.at, spentCtl, spentAll)
			}
		}
	}
	if firstReply < 0 || firstReply > 5*time.Second {
		t.Errorf("the first reply went out after %s; want it within 5 s whatever the control lines", firstReply)
	}
	if len(monitored) != nicks {
		t.Errorf("%d nicks asked about, want %d", len(monitored), nicks)
	}
	if lastControl > never {
		t.Errorf("the last control line went out after %s; control lines must not starve (want within %s)", lastControl, never)
	}
}

// 300 new nicks each writing "hi", at Libera.Chat's pace (a line a second, a burst
// of 4): their MONITORs, which used to go first at two tokens each, held every reply
// for ten minutes. Now replies go at once and the MONITORs, listed several to a line,
// are all out within two minutes.
func TestMonitorFloodLeavesRoomForReplies(t *testing.T) {
	w := newWriter(1, 4, func() *session { return nil })
	floodOfNewNicks(w, 300, func(nick string) { w.queueControl("MONITOR", "+", nick) })
	out := drain(w)
	checkBudget(t, out, 300, 2*time.Minute)
	for _, p := range out {
		if p.l.cmd == "MONITOR" && len(p.l.params[1]) > monitorListBytes {
			t.Errorf("a MONITOR line of %d bytes", len(p.l.params[1]))
		}
	}
}

// WHOIS cannot be listed; 300 of them still take at most a third of the budget
// while replies wait, and still all go out long before the 900 reply lines are done.
func TestWhoisFloodLeavesRoomForReplies(t *testing.T) {
	w := newWriter(1, 4, func() *session { return nil })
	floodOfNewNicks(w, 300, func(nick string) { w.queueControl("WHOIS", nick) })
	out := drain(w)
	// 300 WHOIS at 2 tokens, a third of 1 token/s: 30 minutes, the replies' 900 lines
	// taking the other two thirds.
	checkBudget(t, out, 300, 31*time.Minute)
	// And each recipient's lines in their order.
	next := map[string]int{}
	want := []string{"Hello, this is the help desk.", "You are not identified.", "1 of 4"}
	for _, p := range out {
		if p.l.cmd != "PRIVMSG" {
			continue
		}
		nick := p.l.params[0]
		if got := p.l.params[1]; got != want[next[nick]] {
			t.Fatalf("%s got %q as line %d", nick, got, next[nick]+1)
		}
		next[nick]++
	}
}

// A control line queued while only replies come and go goes at once, even if
// replies have had the budget to themselves for long: the share is not a debt.
func TestControlLineAfterManyRepliesGoesFirst(t *testing.T) {
	w := newWriter(1, 4, func() *session { return nil })
	for i := range 50 {
		w.queue([]outLine{{cmd: "PRIVMSG", params: []string{fmt.Sprintf("p%d", i), "x"}, done: make(chan error, 1)}})
	}
	for range 10 {
		if _, ok := w.next(); !ok {
			t.Fatal("nothing to write")
		}
	}
	w.queueControl("WHOIS", "someone")
	if l, _ := w.next(); l.cmd != "WHOIS" {
		t.Fatalf("wrote %s %v before the WHOIS", l.cmd, l.params)
	}
}

// Control lines that come one at a time, each finding the control queue empty (a
// new nick writing every few seconds), keep to their share too: going first each
// time one arrives would give them two tokens of every three.
func TestSparseControlLinesKeepToTheirShare(t *testing.T) {
	w := newWriter(1, 4, func() *session { return nil })
	for i := range 100 {
		nick := fmt.Sprintf("p%03d", i)
		w.queue([]outLine{
			{cmd: "PRIVMSG", params: []string{nick, "one"}, done: make(chan error, 1)},
			{cmd: "PRIVMSG", params: []string{nick, "two"}, done: make(chan error, 1)},
		})
	}
	spentCtl, spentAll, picks := 0, 0, 0
	for n := 0; len(w.order) > 0; n++ {
		if n%2 == 0 && len(w.control) == 0 {
			w.queueControl("WHOIS", fmt.Sprintf("new%03d", n))
		}
		l, ok := w.next()
		if !ok {
			t.Fatal("nothing to write while lines wait")
		}
		picks++
		spentAll += lineCost(l)
		if l.cmd != "PRIVMSG" {
			spentCtl += lineCost(l)
		}
		if limit := controlShare*float64(spentAll) + 2; float64(spentCtl) > limit {
			t.Fatalf("after %d lines control lines had taken %d of %d tokens while replies waited; want at most a third", picks, spentCtl, spentAll)
		}
	}
	if spentCtl == 0 {
		t.Fatal("no control line went out while replies waited")
	}
}

// MONITOR lines are listed only in runs of the same sign, so that a "-" never
// overtakes a "+" for the same nick; other control lines keep their place.
func TestMonitorListsKeepOrder(t *testing.T) {
	w := newWriter(1, 4, func() *session { return nil })
	w.queueControl("MONITOR", "+", "a")
	w.queueControl("MONITOR", "+", "b")
	w.queueControl("MONITOR", "-", "a")
	w.queueControl("MONITOR", "+", "a")
	w.queueControl("WHOIS", "c")
	w.queueControl("MONITOR", "+", "d")
	for range monitorListMax + 5 {
		w.queueControl("MONITOR", "+", "e")
	}
	var got []string
	for {
		l, ok := w.next()
		if !ok {
			break
		}
		got = append(got, l.cmd+" "+strings.Join(l.params, " "))
	}
	want := []string{"MONITOR + a,b", "MONITOR - a", "MONITOR + a", "WHOIS c",
		"MONITOR + d" + strings.Repeat(",e", monitorListMax-1), "MONITOR + e" + strings.Repeat(",e", 5)}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("lines\n%q\nwant\n%q", got, want)
	}
}

// The WHOIS fallback takes an answer only about the connection that wrote: if the
// nick changed hands between the message and the WHOIS, the answer names the
// account of whoever holds it now, and a session for the message would send its
// replies to them. Such a message is for nobody: no session, and the holder's
// mapping stays.
func TestWhoisFallbackChecksUserhost(t *testing.T) {
	b := &Bridge{outbox: bot.NewOutbox(nil, zerolog.Nop())}
	b.out = newWriter(1, 4, func() *session { return nil })
	b.dir = newDirectory(b)
	d := b.dir
	d.mu.Lock()
	d.personLocked("mallory") // an account the bot deals with
	d.mu.Unlock()
	// identify asks about "Nick" for a message from fromUserhost; the server answers
	// that user@host holds it, logged in to account ("" for none, user "" for offline).
	identify := func(fromUserhost, user, host, account string) (job, bool) {
		j := job{nick: "Nick", userhost: fromUserhost, lookup: true}
		got := make(chan bool, 1)
		go func() { got <- b.identify(context.Background(), &j) }()
		deadline := time.Now().Add(5 * time.Second)
		for { // answer once the WHOIS is asked
			d.mu.Lock()
			asked := d.whois[d.fold("Nick")] != nil
			d.mu.Unlock()
			if asked {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("no WHOIS asked")
			}
			time.Sleep(time.Millisecond)
		}
		if user != "" {
			d.whoisUser("Nick", user, host)
		}
		if account != "" {
			d.whoisAccount("Nick", account)
		}
		d.whoisEnd("Nick")
		select {
		case ok := <-got:
			return j, ok
		case <-time.After(5 * time.Second):
			t.Fatal("identify did not return")
			return j, false
		}
	}

	if j, ok := identify("alice@home.example", "mallory", "elsewhere.example", "mallory"); ok {
		t.Errorf("a message from alice@home.example was taken as %q's, from a WHOIS about another connection", j.in.Sender)
	}
	d.mu.Lock()
	_, session := d.sessions[d.fold("Nick")]
	holder := d.byNick[d.fold("Nick")]
	d.mu.Unlock()
	if session {
		t.Error("a session was started for a nick its sender no longer holds: its replies would reach the holder")
	}
	if holder == nil || holder.account != "mallory" {
		t.Errorf("the nick's holder, identified by the WHOIS, is %+v; want mallory", holder)
	}
	if j, ok := identify("alice@home.example", "", "", ""); ok {
		t.Errorf("a message whose sender went offline before the WHOIS was taken as %q's", j.in.Sender)
	}
	if j, ok := identify("mallory@elsewhere.example", "mallory", "elsewhere.example", "mallory"); !ok || j.in.Sender != "mallory" {
		t.Errorf("the connection that wrote is logged in as mallory, identify said %q, %v", j.in.Sender, ok)
	}
	if j, ok := identify("bob@b.example", "bob", "b.example", ""); !ok || !j.in.Unidentified || !strings.HasPrefix(j.in.Sender, "~Nick!") {
		t.Errorf("the connection that wrote has no account, identify said %+v, %v", j.in, ok)
	}
}

// A nick is watched once the server has answered its MONITOR, not when the MONITOR
// is queued: until then it is trusted only for trustWithout after it was confirmed,
// and holds says so when a line is about to be written.
func TestNickTrustedOnlyOnceMonitorAnswered(t *testing.T) {
	b := &Bridge{}
	b.out = newWriter(1, 4, func() *session { return nil })
	d := newDirectory(b)
	d.monitorOK, d.monMax = true, 100
	d.mu.Lock()
	d.identifiedLocked("alice", "Alice", "a@home")
	d.mu.Unlock()
	d.monitor("Alice")
	if err := d.holds("alice", "Alice"); err != nil {
		t.Fatalf("just identified: %v", err)
	}
	if err := d.holds("alice", "Other"); err == nil {
		t.Fatal("a line for another nick passed")
	}
	d.mu.Lock()
	d.people["alice"].confirmed = time.Now().Add(-2 * trustWithout)
	d.mu.Unlock()
	if err := d.holds("alice", "Alice"); err == nil {
		t.Fatal("trusted long after the last confirmation, with the MONITOR still unanswered")
	}
	d.online("Alice!a@home")
	if err := d.holds("alice", "Alice"); err != nil {
		t.Fatalf("watched after the MONITOR's answer: %v", err)
	}
	d.offline("Alice")
	if err := d.holds("alice", "Alice"); err == nil {
		t.Fatal("trusted after the nick went offline")
	}
}
