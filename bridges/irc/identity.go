package irc

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"switchboard/bot"
	"switchboard/internal/ircnick"
)

// On IRC a nick is free for anyone to take, so a requester is their services
// account and the bot only sends to a nick while it knows that nick is still
// that account's connection. The directory keeps what it knows:
//
//   - account → current nick, learnt from the account tag of their messages,
//     from extended-join and account-notify, or from WHOIS 330;
//   - for people without an account, a session tied to one connection of one
//     nick ("~nick!token"), which ends for good at QUIT, NICK or identification,
//     so whoever takes the nick later sees nothing of it;
//   - every nick in use is MONITORed, so the server tells the bot when it goes
//     offline (a quit, or a nick change: the old nick goes offline) even when
//     the person shares no channel with the bot. The mapping is dropped at once.
//     MONITOR is in InspIRCd (module monitor) and Solanum; polling WHOIS would cost
//     a line of the flood budget per person per check and still leave gaps.
//
// A nick counts as watched once the server has answered its MONITOR (730/731): the
// line may wait behind the flood limit, and until the server has it, nobody tells
// the bot that the nick changed hands. A nick that is not watched (MONITOR not yet
// answered, list full, server without MONITOR) is trusted only for trustWithout
// after it was last confirmed. A reply is checked against this when it is written,
// not only when it is queued (Bridge.Send).
type directory struct {
	b *Bridge

	mu        sync.Mutex
	fold      func(string) string
	people    map[string]*person   // folded account
	byNick    map[string]*person   // folded nick → the account known to be on it
	sessions  map[string]*uSession // folded nick → unidentified session
	byID      map[string]*uSession
	monitored map[string]time.Time // folded nick → last use, for eviction
	watching  map[string]bool      // folded nick → the server answered its MONITOR
	monitorOK bool
	monMax    int
	whois     map[string]*whoisReq // folded nick
}

type person struct {
	account   string
	nick      string // "" while the bot does not know a nick that is surely theirs
	userhost  string
	lastNick  string // where to look when they may be back
	confirmed time.Time
	resolved  time.Time // when the bot last looked for them while away
}

type uSession struct {
	id       string
	nick     string
	userhost string
}

type whoisReq struct {
	account  string
	userhost string
	waiters  []chan whoisAnswer
}

// whoisAnswer is what a WHOIS said of a nick: its account ("" for none) and the
// user@host of the connection holding it.
type whoisAnswer struct{ account, userhost string }

// trustWithout is how long a nick that is not monitored stays trusted.
const trustWithout = time.Minute

func newDirectory(b *Bridge) *directory {
	d := &directory{b: b, fold: ircnick.Fold}
	d.resetLocked()
	return d
}

func (d *directory) resetLocked() {
	d.people = map[string]*person{}
	d.byNick = map[string]*person{}
	d.sessions = map[string]*uSession{}
	d.byID = map[string]*uSession{}
	d.monitored = map[string]time.Time{}
	d.watching = map[string]bool{}
	d.whois = map[string]*whoisReq{}
}

// reconnected starts from a clean slate: the server forgot our MONITOR list and
// anyone may have left or taken a nick while the bot was away. Accounts are
// found again when they write, or by WHOIS when a message waits for them.
func (d *directory) reconnected(s *session) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.fold = ircnick.Fold
	if cm := s.conn.ISupport()["CASEMAPPING"]; cm == "ascii" {
		d.fold = strings.ToLower
	}
	d.monitorOK, d.monMax = s.monitorMax > 0, min(s.monitorMax, 1000)
	d.forgetLocked()
}

func (d *directory) disconnected() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.forgetLocked()
}

func (d *directory) forgetLocked() {
	for _, p := range d.people {
		p.nick, p.resolved = "", time.Time{}
	}
	for _, w := range d.whois {
		for _, ch := range w.waiters {
			ch <- whoisAnswer{}
		}
	}
	people := d.people
	d.resetLocked()
	d.people = people
}

func (d *directory) personLocked(account string) *person {
	k := d.fold(account)
	p := d.people[k]
	if p == nil {
		p = &person{account: account, lastNick: account}
		d.people[k] = p
	}
	return p
}

// identified records that nick is logged in to account now.
func (d *directory) identified(account, nick, userhost string) {
	d.mu.Lock()
	back := d.identifiedLocked(account, nick, userhost)
	d.mu.Unlock()
	d.monitor(nick)
	if back {
		d.b.outbox.Kick() // messages may be waiting for them
		if d.b.away.waiting(account) {
			go func() {
				if err := d.b.svc.RequesterPresence(context.Background(), bot.IRC, account, true); err != nil {
					d.b.log.Warn().Err(err).Msg("Could not tell a case room that its requester is back")
				}
			}()
		}
	}
}

func (d *directory) identifiedLocked(account, nick, userhost string) (back bool) {
	fn := d.fold(nick)
	d.endSessionLocked(fn)
	p := d.personLocked(account)
	if q := d.byNick[fn]; q != nil && q != p {
		q.nick = ""
	}
	if p.nick != "" && d.fold(p.nick) != fn {
		delete(d.byNick, d.fold(p.nick))
	}
	back = p.nick == ""
	p.nick, p.lastNick, p.confirmed = nick, nick, time.Now()
	p.resolved = time.Time{} // if they go away again, look for them again
	if userhost != "" {
		p.userhost = userhost
	}
	d.byNick[fn] = p
	return back
}

// unidentified returns the session of a nick without an account, starting one
// if needed.
func (d *directory) unidentified(nick, userhost string) string {
	d.mu.Lock()
	fn := d.fold(nick)
	if p := d.byNick[fn]; p != nil {
		p.nick = "" // no longer logged in on this nick
		delete(d.byNick, fn)
	}
	s := d.sessions[fn]
	if s != nil && s.userhost != userhost {
		d.endSessionLocked(fn) // another connection took the nick
		s = nil
	}
	if s == nil {
		s = &uSession{id: "~" + nick + "!" + randomToken(), nick: nick, userhost: userhost}
		d.sessions[fn], d.byID[s.id] = s, s
	}
	d.mu.Unlock()
	d.monitor(nick)
	return s.id
}

func (d *directory) endSessionLocked(fn string) {
	if s := d.sessions[fn]; s != nil {
		delete(d.sessions, fn)
		delete(d.byID, s.id)
	}
}

// gone: the nick quit, changed or went offline; whoever has it next is a stranger.
func (d *directory) gone(nick string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	fn := d.fold(nick)
	if p := d.byNick[fn]; p != nil {
		p.nick = ""
		delete(d.byNick, fn)
	}
	d.endSessionLocked(fn)
}

// renamed: a NICK seen in a shared channel. The connection and so the account
// stay the same; an unidentified session ends (it was tied to the nick too).
func (d *directory) renamed(old, nick string) {
	d.mu.Lock()
	p := d.byNick[d.fold(old)]
	d.endSessionLocked(d.fold(old))
	if p != nil {
		d.identifiedLocked(p.account, nick, p.userhost)
	}
	d.mu.Unlock()
	if p != nil {
		d.monitor(nick)
	}
}

// account: an ACCOUNT change (account-notify) or an extended-join. A logout
// makes the account unreachable on that nick; a login is taken for accounts
// the bot deals with, or when it ends an unidentified session.
func (d *directory) account(nick, account, userhost string) {
	d.mu.Lock()
	fn := d.fold(nick)
	if account == "*" || account == "" {
		if p := d.byNick[fn]; p != nil {
			p.nick = ""
			delete(d.byNick, fn)
		}
		d.mu.Unlock()
		return
	}
	_, known := d.people[d.fold(account)]
	_, hadSession := d.sessions[fn]
	d.mu.Unlock()
	if known || hadSession {
		d.identified(account, nick, userhost)
	}
}

// sessionNick maps an unidentified conversation back to its nick.
func (d *directory) sessionNick(id string) (string, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	s := d.byID[id]
	if s == nil {
		return "", false
	}
	return s.nick, true
}

// accountNick is the nick to send to for account, when the bot is sure of it.
func (d *directory) accountNick(account string) (string, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	p := d.people[d.fold(account)]
	if p == nil || p.nick == "" {
		return "", false
	}
	if !d.watching[d.fold(p.nick)] && time.Since(p.confirmed) > trustWithout {
		return "", false
	}
	return p.nick, true
}

// errNickChanged: a reply's nick no longer belongs to its recipient.
var errNickChanged = errors.New("irc: the nick no longer belongs to the recipient")

// holds checks, when a line is written, that nick is still where conv is reached:
// bot.ErrRecipientAway (or errNickChanged) when an account is not, bot.ErrPermanent
// when an unidentified session has ended.
func (d *directory) holds(conv, nick string) error {
	var now string
	var ok bool
	if strings.HasPrefix(conv, "~") {
		if now, ok = d.sessionNick(conv); !ok {
			return fmt.Errorf("%w: the IRC connection this request was tied to has ended", bot.ErrPermanent)
		}
	} else if now, ok = d.accountNick(conv); !ok {
		return bot.ErrRecipientAway
	}
	d.mu.Lock()
	same := d.fold(now) == d.fold(nick)
	d.mu.Unlock()
	if !same {
		return errNickChanged
	}
	return nil
}

func randomToken() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
