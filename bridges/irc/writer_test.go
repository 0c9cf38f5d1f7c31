package irc

import (
	"context"
	"errors"
	"strings"
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
