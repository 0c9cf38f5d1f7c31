package irc

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// Many people at once: each gets their first line before anyone gets a second,
// and each person's lines stay in order.
func TestWriterTakesTurnsByRecipient(t *testing.T) {
	w := newWriter(1, 1, func() *session { return nil })
	lines := func(nick string, texts ...string) []outLine {
		var out []outLine
		for _, s := range texts {
			out = append(out, outLine{cmd: "PRIVMSG", params: []string{nick, s}})
		}
		return out
	}
	w.queue(lines("Alice", "a1", "a2", "a3"))
	w.queue(lines("bob", "b1"))
	w.queue(lines("carol", "c1", "c2"))
	w.queue(lines("ALICE", "a4")) // the same person under RFC 1459 case folding
	w.queueControl("MONITOR", "+dave")

	var got []string
	for {
		l, ok := w.next()
		if !ok {
			break
		}
		got = append(got, l.params[len(l.params)-1])
	}
	want := "+dave a1 b1 c1 a2 c2 a3 a4"
	if strings.Join(got, " ") != want {
		t.Fatalf("order %q, want %q", strings.Join(got, " "), want)
	}
	if len(w.msgs) != 0 || len(w.order) != 0 {
		t.Fatalf("left behind: %v %v", w.msgs, w.order)
	}
}

// A message's lines go out whole or from a failed line on not at all: when a line's
// check fails (its nick was not the recipient's at that moment), the lines after it
// are not written even if the check would pass again, so the message sent again
// later is not read with its end before its beginning.
func TestFailedLineHoldsBackTheRestOfItsMessage(t *testing.T) {
	w := newWriter(1000, 10, func() *session { return &session{} })
	done := make(chan error, 3)
	group := &lineGroup{}
	var checks int
	check := func() error {
		checks++
		if checks == 1 {
			return errNickChanged // a moment when the nick was not theirs
		}
		t.Error("a line after the refused one was checked, so it could have been written")
		return errNickChanged // not written here either way: the session has no connection
	}
	var lines []outLine
	for _, s := range []string{"We are still gathering the details", "2 of 4. Does this involve a child?", "Please answer yes or no"} {
		lines = append(lines, outLine{cmd: "PRIVMSG", params: []string{"frank", s}, done: done, check: check, group: group})
	}
	w.queue(lines)
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { w.run(ctx); close(stopped) }()
	var got []error
	for range lines {
		select {
		case err := <-done:
			got = append(got, err)
		case <-time.After(10 * time.Second):
			t.Fatal("the writer did not finish the message's lines")
		}
	}
	cancel()
	<-stopped
	if !errors.Is(got[0], errNickChanged) || !errors.Is(got[1], errEarlierLineFailed) || !errors.Is(got[2], errEarlierLineFailed) {
		t.Fatalf("outcomes %v; want the refusal, then the two lines after it held back", got)
	}
}

// The same words due to several people go out as one PRIVMSG naming them (up to the
// server's TARGMAX), each person's lines still in order and each line confirmed or
// failed for its own recipient: a 401 for one fails that one only, and a recipient
// whose nick check fails is left out, with the rest of their message held back.
func TestWriterSharesALineAmongTheSameWords(t *testing.T) {
	w, sentLines := recordingWriter(t, func(w *writer) {
		w.noSuchNick("Bob") // bob went away before the server got to him
	})
	type person struct {
		nick  string
		done  chan error
		check func() error
	}
	people := []person{{nick: "alice"}, {nick: "bob"}, {nick: "carol", check: func() error { return errNickChanged }},
		{nick: "dave"}, {nick: "erin"}, {nick: "frank"}}
	for i := range people {
		p := &people[i]
		p.done = make(chan error, 2)
		group := &lineGroup{}
		texts := []string{"Hello, and thank you for writing.", "1 of 4. Is anyone at risk of harm?"}
		if p.nick == "frank" {
			texts = []string{"Your request is open."}
		}
		var lines []outLine
		for _, text := range texts {
			lines = append(lines, outLine{cmd: "PRIVMSG", params: []string{p.nick, text}, done: p.done, check: p.check, group: group})
		}
		w.queue(lines)
	}
	long := strings.Repeat("x", 400) // with four long nicks this no longer fits one line
	for _, nick := range []string{strings.Repeat("g", 30), strings.Repeat("h", 30), strings.Repeat("i", 30), strings.Repeat("j", 30)} {
		w.queue([]outLine{{cmd: "PRIVMSG", params: []string{nick, long}, done: make(chan error, 1)}})
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { w.run(ctx); close(stopped) }()
	want := map[string][]error{
		"alice": {nil, nil}, "bob": {errNoSuchNick, errNoSuchNick}, "carol": {errNickChanged, errEarlierLineFailed},
		"dave": {nil, nil}, "erin": {nil, nil}, "frank": {nil},
	}
	for _, p := range people {
		for i, wantErr := range want[p.nick] {
			select {
			case err := <-p.done:
				if !errors.Is(err, wantErr) && err != wantErr {
					t.Errorf("%s line %d: %v, want %v", p.nick, i+1, err, wantErr)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("%s line %d: no outcome", p.nick, i+1)
			}
		}
	}
	cancel()
	<-stopped
	got := strings.Join(sentLines(), "\n")
	for _, line := range []string{
		"PRIVMSG alice,bob,dave,erin :Hello, and thank you for writing.",
		"PRIVMSG frank :Your request is open.",
		"PRIVMSG alice,bob,dave,erin :1 of 4. Is anyone at risk of harm?",
	} {
		if !strings.Contains(got, line+"\n") {
			t.Errorf("no line %q in what was sent:\n%s", line, got)
		}
	}
	if strings.Contains(got, "carol") {
		t.Errorf("carol's nick check failed, yet a line named her:\n%s", got)
	}
	if strings.Count(got, long) != 2 {
		t.Errorf("the long line went out %d times, want 2 (three long nicks, then one):\n%s", strings.Count(got, long), got)
	}
}

func TestPrivmsgTargets(t *testing.T) {
	for _, c := range []struct {
		is   map[string]string
		want int
	}{
		{map[string]string{"TARGMAX": "NAMES:1,LIST:1,KICK:1,WHOIS:1,PRIVMSG:4,NOTICE:4,ACCEPT:,MONITOR:"}, 4},
		{map[string]string{"TARGMAX": "PRIVMSG:2"}, 2},
		{map[string]string{"TARGMAX": "PRIVMSG:,NOTICE:1"}, maxTargets},
		{map[string]string{"TARGMAX": "NOTICE:3"}, 1},
		{map[string]string{"MAXTARGETS": "20"}, maxTargets},
		{map[string]string{"TARGMAX": "PRIVMSG:junk"}, 1},
		{map[string]string{}, 1},
	} {
		if got := privmsgTargets(c.is); got != c.want {
			t.Errorf("%v: %d targets, want %d", c.is, got, c.want)
		}
	}
}

// A message's first line goes before the later lines of messages already under way:
// people who have just written hear that they were heard before anyone gets the rest
// of a longer answer, and each person's lines still keep their order.
func TestFirstLinesGoFirst(t *testing.T) {
	w := newWriter(1, 1, func() *session { return nil })
	msg := func(nick string, texts ...string) []outLine {
		var out []outLine
		for i, s := range texts {
			out = append(out, outLine{cmd: "PRIVMSG", params: []string{nick, s}, first: i == 0})
		}
		return out
	}
	var got []string
	pick := func() {
		l, ok := w.next()
		if !ok {
			t.Fatal("nothing to write")
		}
		got = append(got, l.params[1])
	}
	w.queue(msg("alice", "a1", "a2", "a3"))
	pick() // alice's answer is under way when the others write
	w.queue(msg("bob", "b1", "b2"))
	w.queue(msg("carol", "c1"))
	for len(w.order) > 0 {
		pick()
	}
	if want := "a1 b1 c1 a2 b2 a3"; strings.Join(got, " ") != want {
		t.Fatalf("order %q, want %q", strings.Join(got, " "), want)
	}
}

// A PING confirms up to confirmEvery lines, however many recipients they carry: a
// line to four people is one line of the flood budget, and so is each PING.
func TestConfirmCountsLinesNotRecipients(t *testing.T) {
	w, sentLines := recordingWriter(t, nil)
	done := make(chan error, 20)
	var lines []outLine
	for i := range 20 {
		lines = append(lines, outLine{cmd: "PRIVMSG", params: []string{fmt.Sprintf("n%d", i), "Hello"}, done: done, first: true})
	}
	w.queue(lines)
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { w.run(ctx); close(stopped) }()
	for range lines {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("not confirmed")
		}
	}
	cancel()
	<-stopped
	var sent []string
	for _, l := range sentLines() {
		sent = append(sent, strings.Fields(l)[0])
	}
	if got := strings.Join(sent, " "); got != "PRIVMSG PRIVMSG PRIVMSG PRIVMSG PRIVMSG PING" {
		t.Fatalf("sent %q; want five lines of four and one PING", got)
	}
}

// recordingWriter is a writer on a connection that records each line (checking its
// length) and answers each PING as a server would, after beforePong if set; the
// network allows four targets a PRIVMSG.
func recordingWriter(t *testing.T, beforePong func(*writer)) (*writer, func() []string) {
	sess := &session{targets: 4}
	w := newWriter(1000, 100, func() *session { return sess })
	var mu sync.Mutex
	var sent []string
	w.send = func(_ *session, cmd string, params ...string) error {
		mu.Lock()
		defer mu.Unlock()
		line := cmd + " " + strings.Join(params, " :")
		if len(line)+2 > maxLineBytes {
			t.Errorf("a line of %d bytes: %.60q…", len(line)+2, line)
		}
		sent = append(sent, line)
		if cmd == "PING" {
			if beforePong != nil {
				beforePong(w)
			}
			go w.pong(params[0])
		}
		return nil
	}
	return w, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), sent...)
	}
}
