package irc

import (
	"strings"
	"testing"
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
