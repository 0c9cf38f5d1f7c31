package irc

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/time/rate"

	"switchboard/internal/ircnick"
)

// errNoSuchNick: the server answered a line with 401, the nick is not online.
var errNoSuchNick = errors.New("irc: no such nick")

// errNotConnected: the line was not written, or not confirmed, because the
// connection is gone.
var errNotConnected = errors.New("irc: not connected")

// outLine is one line waiting for the writer.
type outLine struct {
	cmd    string
	params []string
	// done receives the outcome, nil once the server has processed the line; nil
	// when nobody waits (control lines, channel pointers).
	done chan error
	// check, if set, runs just before the line is written; an error fails the line
	// unwritten. A reply asks whether its nick still belongs to its recipient: the
	// line may have waited minutes behind the flood limit, and the nick changed hands.
	check func() error
	// first marks the first line of a message: it goes before the later lines of
	// messages already begun (see next).
	first bool
	// group, if set, ties the lines of one message: once one fails unwritten, the
	// rest are not written either. The message is sent again whole later, and its
	// reader must not get its end first (a status answer's second line, the
	// question, arrived alone before the whole answer once, under load).
	group *lineGroup
}

// lineGroup is shared by the lines of one message; only the writer's goroutine
// touches it.
type lineGroup struct{ failed error }

// errEarlierLineFailed fails the lines after one of their message that failed.
var errEarlierLineFailed = errors.New("irc: an earlier line of the message was not written")

// maxLineBytes is an IRC line's length with its CRLF (tags apart).
const maxLineBytes = 512

// maxTargets bounds the recipients of one PRIVMSG whatever the server allows:
// Libera.Chat's TARGMAX, so a line is never refused on a network that counts targets
// harder than it says.
const maxTargets = 4

// confirmEvery is how many written lines at most wait for one PING (a line to several
// recipients counts once).
const confirmEvery = 16

// controlShare is the most of the flood budget control lines take while messages
// wait (they take all of it when none do). It is kept by a credit: each token a
// message takes earns control lines controlShare/(1-controlShare) of a token, and
// a control line written while messages wait spends its cost. The credit is capped
// at controlCreditMax, one control line, so that neither side builds up a debt:
// after an hour of replies alone, a flood of MONITORs still gets only its share,
// and control lines that come one at a time (each finding the control queue empty)
// cannot take more than their share either.
const controlShare = 1.0 / 3

const controlCreditMax = 2

// monitorListMax bounds the nicks of one merged MONITOR line (its bytes stay well
// under the 512 of a line).
const monitorListMax, monitorListBytes = 20, 400

// writer is the only way lines leave the bot (apart from irc-go's own PONGs
// and registration). Every line takes a token from one bucket sized under the
// server's flood limit, so however many replies are due at once they queue
// here and the server never sees a flood. Control lines (MONITOR, WHOIS,
// JOIN) go before messages, as they keep identities right, but while messages
// wait they get at most controlShare of the budget: 300 new nicks each writing
// "hi" queue 300 MONITORs, which used to hold every reply for ten minutes at
// Libera.Chat's pace. A run of MONITOR lines goes out as one line with a list of
// nicks. Messages take turns by recipient, a line each:
// when many people write at once, everyone's first line goes out in the burst
// instead of the last person waiting behind everyone else's whole answers.
//
// A line handed to the socket may still die with the connection, so a message
// counts as sent only once the server has processed it: after a run of lines
// (when the queue empties, or every confirmEvery lines) the writer sends a PING,
// and the server's PONG, which comes after everything sent before it, confirms
// the run. That costs one line per run rather than one per line. (Labeled-response
// would confirm each line, but Libera.Chat's Solanum lacks it, and InspIRCd 3
// holds a labeled PRIVMSG back from its recipient for ~40 ms.)
type writer struct {
	// send writes a line to the session's connection (replaced in tests).
	send func(s *session, cmd string, params ...string) error
	lim  *rate.Limiter
	wake chan struct{}
	cur  func() *session

	mu      sync.Mutex
	control []outLine
	// msgs holds each recipient's lines in order; order is the recipients with
	// lines waiting, in turn.
	msgs        map[string][]outLine
	order       []string
	unconfirmed []*written
	// unconfirmedLines counts the lines written since the last PING (a line may
	// carry several of unconfirmed, one per recipient).
	unconfirmedLines int
	waiting          []pingWait
	seq              int
	// credit is the tokens control lines may take before the next message, while
	// messages wait (see controlShare).
	credit float64
	// trace, when set (by tests, under mu), sees each line picked and whether
	// messages were waiting when it was.
	trace func(l outLine, msgsWaiting bool)
}

// written is a line handed to the server, waiting for its confirmation.
type written struct {
	done   chan error
	target string
	err    error // set by a 401 for target before the PONG
}

// pingWait is a PING in flight and the lines it confirms.
type pingWait struct {
	token string
	lines []*written
}

func newWriter(perSecond float64, burst int, cur func() *session) *writer {
	return &writer{lim: rate.NewLimiter(rate.Limit(perSecond), burst), wake: make(chan struct{}, 1), cur: cur,
		msgs: map[string][]outLine{}, credit: controlCreditMax,
		send: func(s *session, cmd string, params ...string) error { return s.conn.Send(cmd, params...) }}
}

// queueControl adds a line that goes before any waiting message.
func (w *writer) queueControl(cmd string, params ...string) {
	w.mu.Lock()
	w.control = append(w.control, outLine{cmd: cmd, params: params})
	w.mu.Unlock()
	w.poke()
}

// queue adds lines in order; each recipient's lines keep their order.
func (w *writer) queue(lines []outLine) {
	w.mu.Lock()
	for _, l := range lines {
		k := ircnick.Fold(l.params[0])
		if len(w.msgs[k]) == 0 {
			w.order = append(w.order, k)
		}
		w.msgs[k] = append(w.msgs[k], l)
	}
	w.mu.Unlock()
	w.poke()
}

func (w *writer) poke() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// lineCost is what a line takes from the bucket. Servers weigh some commands more
// (InspIRCd: WHOIS counts two), so control lines take two tokens.
func lineCost(l outLine) int {
	if l.done == nil && l.cmd != "PRIVMSG" && l.cmd != "NOTICE" {
		return 2
	}
	return 1
}

// next picks the line to write: a control line unless messages wait and control
// lines have used up their credit, else the next recipient's line.
func (w *writer) next() (outLine, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	ctl, msgs := len(w.control) > 0, len(w.order) > 0
	if ctl && (!msgs || w.credit >= float64(lineCost(w.control[0]))) {
		l := w.popControlLocked()
		if msgs {
			w.credit -= float64(lineCost(l))
		}
		w.traced(l, msgs)
		return l, true
	}
	if msgs {
		// A message's first line goes before the later lines of messages already
		// begun: when many people write at once, everyone hears that they were heard
		// before anyone gets the rest of an answer.
		i := 0
		for j, k := range w.order {
			if w.msgs[k][0].first {
				i = j
				break
			}
		}
		k := w.order[i]
		copy(w.order[1:i+1], w.order[:i]) // those passed over keep their turn
		w.order[0] = ""
		w.order = w.order[1:]
		q := w.msgs[k]
		l := q[0]
		q[0] = outLine{}
		if q = q[1:]; len(q) > 0 {
			w.msgs[k] = q
			w.order = append(w.order, k) // back of the line
		} else {
			delete(w.msgs, k)
		}
		w.credit = min(controlCreditMax, w.credit+float64(lineCost(l))*(controlShare/(1-controlShare)))
		w.traced(l, true)
		return l, true
	}
	return outLine{}, false
}

func (w *writer) traced(l outLine, msgsWaiting bool) {
	if w.trace != nil {
		w.trace(l, msgsWaiting)
	}
}

// popControlLocked takes the first control line; a run of "MONITOR +" (or "-")
// lines at the head becomes one line listing their nicks.
func (w *writer) popControlLocked() outLine {
	l := w.control[0]
	w.control[0] = outLine{}
	w.control = w.control[1:]
	if !isMonitorList(l) {
		return l
	}
	sign, nicks := l.params[0], l.params[1]
	n, size := 1, len(nicks)
	for len(w.control) > 0 && n < monitorListMax {
		m := w.control[0]
		if !isMonitorList(m) || m.params[0] != sign || size+1+len(m.params[1]) > monitorListBytes {
			break
		}
		nicks += "," + m.params[1]
		n, size = n+1, size+1+len(m.params[1])
		w.control[0] = outLine{}
		w.control = w.control[1:]
	}
	return outLine{cmd: "MONITOR", params: []string{sign, nicks}}
}

func isMonitorList(l outLine) bool {
	return l.cmd == "MONITOR" && len(l.params) == 2 && (l.params[0] == "+" || l.params[0] == "-")
}

// connectionLost fails every line not yet confirmed, and forgets control lines:
// the next connection sends what it needs.
func (w *writer) connectionLost() {
	w.mu.Lock()
	failed := w.unconfirmed
	for _, p := range w.waiting {
		failed = append(failed, p.lines...)
	}
	w.unconfirmed, w.unconfirmedLines, w.waiting, w.control = nil, 0, nil, nil
	w.mu.Unlock()
	for _, l := range failed {
		l.done <- errNotConnected
	}
}

// run writes lines until ctx ends.
func (w *writer) run(ctx context.Context) {
	for {
		l, ok := w.next()
		if !ok {
			if err := w.confirm(ctx); err != nil {
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-w.wake:
			}
			continue
		}
		if l.group != nil && l.group.failed != nil {
			finish(l, errEarlierLineFailed)
			continue
		}
		s := w.cur()
		if s == nil {
			unwritten(l, errNotConnected)
			continue
		}
		if l.check != nil {
			if err := l.check(); err != nil {
				unwritten(l, err) // spares the token too
				continue
			}
		}
		if err := w.lim.WaitN(ctx, lineCost(l)); err != nil {
			unwritten(l, errNotConnected)
			return
		}
		if l.check != nil {
			if err := l.check(); err != nil { // again: the wait may have been long
				unwritten(l, err)
				continue
			}
		}
		batch := []outLine{l}
		if s.targets > 1 && isMessage(l) {
			batch = w.alongside(l, s.targets-1)
		}
		params := l.params
		if len(batch) > 1 {
			nicks := make([]string, len(batch))
			for i, b := range batch {
				nicks[i] = b.params[0]
			}
			params = []string{strings.Join(nicks, ","), l.params[1]}
		}
		if err := w.send(s, l.cmd, params...); err != nil {
			for _, b := range batch {
				unwritten(b, errNotConnected)
			}
			continue
		}
		if l.done != nil {
			w.mu.Lock()
			for _, b := range batch {
				w.unconfirmed = append(w.unconfirmed, &written{done: b.done, target: b.params[0]})
			}
			w.unconfirmedLines++
			n := w.unconfirmedLines
			w.mu.Unlock()
			if n >= confirmEvery {
				if err := w.confirm(ctx); err != nil {
					return
				}
			}
		}
	}
}

// isMessage: a private message someone waits for, one target, which may share its
// line with the same words to others.
func isMessage(l outLine) bool {
	return l.cmd == "PRIVMSG" && l.done != nil && len(l.params) == 2 && !strings.Contains(l.params[0], ",")
}

// alongside takes, besides l, up to n lines with the same words waiting first in line
// for other recipients, and gives them with l, each checked as l was: one PRIVMSG to
// several targets (TARGMAX) costs one line of the flood budget, and the server hands
// each recipient a message addressed to them alone, so nobody learns who else got it.
// Many people writing at once are all told the same first words (the greeting, the
// first question): under Libera.Chat's line a second, four of them get it in the
// time of one. A line that fails its check here fails alone, as it would have.
func (w *writer) alongside(l outLine, n int) []outLine {
	batch := []outLine{l}
	size := len("PRIVMSG ") + len(l.params[0]) + len(" :") + len(l.params[1]) + len("\r\n")
	for len(batch) <= n {
		took := w.takeSame(l, n+1-len(batch), size)
		if len(took) == 0 {
			break
		}
		for _, m := range took {
			if m.group != nil && m.group.failed != nil {
				finish(m, errEarlierLineFailed)
				continue
			}
			if m.check != nil {
				if err := m.check(); err != nil {
					unwritten(m, err)
					continue
				}
			}
			batch = append(batch, m)
			size += 1 + len(m.params[0])
		}
	}
	return batch
}

// takeSame takes up to n lines with l's words that wait first in line for other
// recipients and would keep the line within maxLineBytes (size is its length so far;
// the taken count as if all were written).
func (w *writer) takeSame(l outLine, n, size int) []outLine {
	w.mu.Lock()
	defer w.mu.Unlock()
	var took []outLine
	room := size
	order := w.order[:0:0]
	for _, k := range w.order {
		q := w.msgs[k]
		m := q[0]
		if len(took) == n || !isMessage(m) || m.params[1] != l.params[1] || ircnick.Fold(m.params[0]) == ircnick.Fold(l.params[0]) ||
			room+1+len(m.params[0]) > maxLineBytes {
			order = append(order, k)
			continue
		}
		took = append(took, m)
		room += 1 + len(m.params[0])
		q[0] = outLine{}
		if q = q[1:]; len(q) > 0 {
			w.msgs[k] = q
		} else {
			delete(w.msgs, k)
		}
	}
	// Those served go to the back of the line, as next does.
	for _, m := range took {
		if k := ircnick.Fold(m.params[0]); len(w.msgs[k]) > 0 {
			order = append(order, k)
		}
	}
	w.order = order
	return took
}

// confirm sends a PING for the lines written since the last one.
func (w *writer) confirm(ctx context.Context) error {
	w.mu.Lock()
	if len(w.unconfirmed) == 0 {
		w.mu.Unlock()
		return nil
	}
	w.seq++
	p := pingWait{token: "sb" + strconv.Itoa(w.seq), lines: w.unconfirmed}
	w.unconfirmed, w.unconfirmedLines = nil, 0
	w.waiting = append(w.waiting, p)
	w.mu.Unlock()
	if err := w.lim.Wait(ctx); err != nil {
		return err
	}
	if s := w.cur(); s == nil || w.send(s, "PING", p.token) != nil {
		w.connectionLost()
	}
	return nil
}

// pong confirms every line written before the PING with this token.
func (w *writer) pong(token string) {
	w.mu.Lock()
	i := -1
	for k, p := range w.waiting {
		if p.token == token {
			i = k
			break
		}
	}
	if i < 0 {
		w.mu.Unlock()
		return
	}
	done := w.waiting[:i+1]
	w.waiting = append([]pingWait(nil), w.waiting[i+1:]...)
	w.mu.Unlock()
	for _, p := range done {
		for _, l := range p.lines {
			l.done <- l.err
		}
	}
}

// noSuchNick (401) fails the lines to nick that wait for confirmation: the nick
// went offline before the bot heard of it, and the message must be kept.
func (w *writer) noSuchNick(nick string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	mark := func(ls []*written) {
		for _, l := range ls {
			if ircnick.Fold(l.target) == ircnick.Fold(nick) {
				l.err = errNoSuchNick
			}
		}
	}
	mark(w.unconfirmed)
	for _, p := range w.waiting {
		mark(p.lines)
	}
}

// unwritten fails a line that was not written, and with it the rest of its message.
func unwritten(l outLine, err error) {
	if l.group != nil {
		l.group.failed = err
	}
	finish(l, err)
}

func finish(l outLine, err error) {
	if l.done != nil {
		l.done <- err
	}
}
