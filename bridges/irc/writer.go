package irc

import (
	"context"
	"errors"
	"sync"

	"github.com/ergochat/irc-go/ircevent"
	"golang.org/x/time/rate"
)

// errNoSuchNick: the server answered a labeled PRIVMSG with 401, the nick is gone.
var errNoSuchNick = errors.New("irc: no such nick")

// errNotConnected: the line was not written because the bot is not connected.
var errNotConnected = errors.New("irc: not connected")

// outLine is one line waiting for the writer.
type outLine struct {
	cmd    string
	params []string
	// done receives the outcome; nil when nobody waits (control lines, channel
	// pointers). With labeled-response, success means the server processed it.
	done chan error
}

// writer is the only way lines leave the bot (apart from irc-go's own PONGs
// and registration). Every line takes a token from one bucket sized under the
// server's flood limit, so however many replies are due at once they queue
// here and the server never sees a flood. Control lines (MONITOR, WHOIS,
// JOIN) go before messages: they keep identities right, which the messages
// waiting behind them depend on.
type writer struct {
	lim  *rate.Limiter
	wake chan struct{}
	cur  func() *session

	mu      sync.Mutex
	control []outLine
	msgs    []outLine
}

func newWriter(perSecond float64, burst int, cur func() *session) *writer {
	return &writer{lim: rate.NewLimiter(rate.Limit(perSecond), burst), wake: make(chan struct{}, 1), cur: cur}
}

// queueControl adds a line that goes before any waiting message.
func (w *writer) queueControl(cmd string, params ...string) {
	w.mu.Lock()
	w.control = append(w.control, outLine{cmd: cmd, params: params})
	w.mu.Unlock()
	w.poke()
}

// queue adds lines in order, kept together, and returns their outcome channels.
func (w *writer) queue(lines []outLine) {
	w.mu.Lock()
	w.msgs = append(w.msgs, lines...)
	w.mu.Unlock()
	w.poke()
}

func (w *writer) poke() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *writer) next() (outLine, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.control) > 0 {
		l := w.control[0]
		w.control = w.control[1:]
		return l, true
	}
	if len(w.msgs) > 0 {
		l := w.msgs[0]
		w.msgs[0] = outLine{}
		w.msgs = w.msgs[1:]
		return l, true
	}
	return outLine{}, false
}

// dropControl forgets control lines of a connection that ended: the next
// connection re-sends what it needs.
func (w *writer) dropControl() {
	w.mu.Lock()
	w.control = nil
	w.mu.Unlock()
}

// run writes lines until ctx ends.
func (w *writer) run(ctx context.Context) {
	for {
		l, ok := w.next()
		if !ok {
			select {
			case <-ctx.Done():
				return
			case <-w.wake:
			}
			continue
		}
		s := w.cur()
		if s == nil {
			finish(l, errNotConnected)
			continue
		}
		// Servers weigh some commands more (InspIRCd: WHOIS counts two), so control
		// lines take two tokens.
		cost := 1
		if l.done == nil && l.cmd != "PRIVMSG" && l.cmd != "NOTICE" {
			cost = 2
		}
		if err := w.lim.WaitN(ctx, cost); err != nil {
			finish(l, errNotConnected)
			return
		}
		w.write(s, l)
	}
}

func (w *writer) write(s *session, l outLine) {
	if l.done == nil || !s.labels {
		err := s.conn.Send(l.cmd, l.params...)
		if err != nil {
			err = errNotConnected
		}
		finish(l, err)
		return
	}
	// With labeled-response the server answers every labeled command (ACK when it
	// has nothing else to say), so success means the server has taken the line.
	// A dropped connection calls the callback with nil.
	err := s.conn.SendWithLabel(func(b *ircevent.Batch) { finish(l, batchOutcome(b)) }, nil, l.cmd, l.params...)
	if err != nil {
		finish(l, errNotConnected)
	}
}

func batchOutcome(b *ircevent.Batch) error {
	if b == nil {
		return errNotConnected
	}
	if b.Command == "401" {
		return errNoSuchNick
	}
	for _, it := range b.Items {
		if it.Command == "401" {
			return errNoSuchNick
		}
	}
	return nil
}

func finish(l outLine, err error) {
	if l.done != nil {
		l.done <- err
	}
}
