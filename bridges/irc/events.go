package irc

import (
	"context"
	"hash/fnv"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/ergochat/irc-go/ircmsg"
	"golang.org/x/time/rate"

	"switchboard/bot"
	"switchboard/internal/ircnick"
)

// register sets the callbacks of one connection. irc-go runs them on its read
// goroutine, so none of them waits for anything: the core is called from lanes.
func (b *Bridge) register(s *session) {
	c := s.conn
	c.AddConnectCallback(func(ircmsg.Message) { b.registered(s) })
	// Quit marks the connection as finished, so Loop returns to our own reconnect
	// loop (with backoff) instead of reconnecting on its fixed schedule.
	c.AddDisconnectCallback(func(ircmsg.Message) { c.Quit() })
	c.AddCallback("PRIVMSG", func(m ircmsg.Message) { b.onPrivmsg(s, m) })
	c.AddCallback("NICK", func(m ircmsg.Message) {
		if len(m.Params) > 0 && !b.self(s, m.Nick()) {
			b.dir.renamed(m.Nick(), m.Params[0])
		}
	})
	c.AddCallback("QUIT", func(m ircmsg.Message) { b.dir.gone(m.Nick()) })
	c.AddCallback("ACCOUNT", func(m ircmsg.Message) {
		if len(m.Params) > 0 {
			b.dir.account(m.Nick(), m.Params[0], userhost(m))
		}
	})
	// extended-join: JOIN #channel account :realname
	c.AddCallback("JOIN", func(m ircmsg.Message) {
		if len(m.Params) > 1 && !b.self(s, m.Nick()) {
			b.dir.account(m.Nick(), m.Params[1], userhost(m))
		}
	})
	c.AddCallback("PONG", func(m ircmsg.Message) { b.out.pong(lastParam(m)) })
	c.AddCallback("401", func(m ircmsg.Message) { // ERR_NOSUCHNICK
		if len(m.Params) > 1 {
			b.out.noSuchNick(m.Params[1])
		}
	})
	c.AddCallback("730", func(m ircmsg.Message) { b.dir.online(lastParam(m)) })
	c.AddCallback("731", func(m ircmsg.Message) {
		b.nickFree(s, lastParam(m))
		b.dir.offline(lastParam(m))
	})
	c.AddCallback("734", func(m ircmsg.Message) { // ERR_MONLISTFULL: watch by time instead
		b.log.Warn().Msg("The server's MONITOR list is full; unwatched nicks are trusted for a minute only")
	})
	c.AddCallback("311", func(m ircmsg.Message) {
		if len(m.Params) > 3 {
			b.dir.whoisUser(m.Params[1], m.Params[2], m.Params[3])
		}
	})
	c.AddCallback("330", func(m ircmsg.Message) {
		if len(m.Params) > 2 {
			b.dir.whoisAccount(m.Params[1], m.Params[2])
		}
	})
	c.AddCallback("318", func(m ircmsg.Message) {
		if len(m.Params) > 1 {
			b.dir.whoisEnd(m.Params[1])
		}
	})
}

func (b *Bridge) self(s *session, nick string) bool {
	return ircnick.Fold(nick) == ircnick.Fold(s.conn.CurrentNick())
}

func userhost(m ircmsg.Message) string {
	nuh, err := m.NUH()
	if err != nil || nuh.User == "" {
		return ""
	}
	return nuh.User + "@" + nuh.Host
}

func lastParam(m ircmsg.Message) string {
	if len(m.Params) == 0 {
		return ""
	}
	return m.Params[len(m.Params)-1]
}

var eventSeq atomic.Int64

// ctcpLimit bounds answers to CTCP VERSION and PING: they are answered (clients
// and network staff use them to see what a bot is and whether it is alive), but
// a CTCP flood must not eat the flood budget the replies to people need.
var ctcpLimit = rate.NewLimiter(0.5, 3)

// onPrivmsg routes one PRIVMSG: public channels get a pointer at most, CTCP a
// CTCP answer or silence, and private messages go to the core.
func (b *Bridge) onPrivmsg(s *session, m ircmsg.Message) {
	nick := m.Nick()
	if len(m.Params) < 2 || nick == "" || strings.Contains(nick, ".") || b.self(s, nick) {
		return // a server notice, or our own echo
	}
	target, text := m.Params[0], m.Params[1]
	if target != "" && strings.ContainsAny(target[:1], "#&!+") {
		b.public.message(s, target, nick, text)
		return
	}
	if strings.HasPrefix(text, "\x01") {
		inner := strings.Trim(text, "\x01")
		cmd, rest, _ := strings.Cut(inner, " ")
		switch strings.ToUpper(cmd) {
		case "ACTION": // "/me …" is something the person says
			text = rest
		case "VERSION":
			if ctcpLimit.Allow() {
				b.out.queue([]outLine{{cmd: "NOTICE", params: []string{nick, "\x01VERSION Switchboard help desk bot\x01"}}})
			}
			return
		case "PING":
			if ctcpLimit.Allow() && len(rest) < 64 {
				b.out.queue([]outLine{{cmd: "NOTICE", params: []string{nick, "\x01PING " + CleanInput(rest) + "\x01"}}})
			}
			return
		default:
			return // DCC, TIME, CLIENTINFO …: nothing a person said
		}
	}
	in := bot.Inbound{Platform: bot.IRC, Text: CleanInput(text), Kind: bot.KindText}
	// IRC never redelivers a message, so the ID needs only to be unique; the
	// session token keeps it so even if a restarted server reuses msgids.
	if ok, id := m.GetTag("msgid"); ok && id != "" {
		in.EventID = "irc/" + s.token + "/" + id
	} else {
		in.EventID = "irc/" + s.token + "/n" + strconv.FormatInt(eventSeq.Add(1), 10)
	}
	j := job{in: in, nick: nick, userhost: userhost(m)}
	if ok, acct := m.GetTag("account"); ok && acct != "" {
		b.dir.identified(acct, nick, j.userhost)
		j.in.Sender, j.in.Conversation = acct, acct
	} else if s.accountTag {
		j.in.Sender = b.dir.unidentified(nick, j.userhost)
		j.in.Conversation, j.in.Unidentified = j.in.Sender, true
	} else {
		j.lookup = true // WHOIS 330 in the lane, not here on the read goroutine
	}
	b.in.push(j)
}

// job is one private message on its way to the core.
type job struct {
	in       bot.Inbound
	nick     string
	userhost string
	lookup   bool
}

// lanes hand messages to the core in parallel while keeping one person's
// messages in order: a nick always maps to the same lane.
type lanes struct {
	b  *Bridge
	ch [8]chan job
}

func newLanes(b *Bridge) *lanes {
	l := &lanes{b: b}
	for i := range l.ch {
		l.ch[i] = make(chan job, 1024)
	}
	return l
}

func (l *lanes) push(j job) {
	h := fnv.New32a()
	h.Write([]byte(ircnick.Fold(j.nick)))
	l.ch[h.Sum32()%uint32(len(l.ch))] <- j
}

func (l *lanes) run(ctx context.Context) {
	for i := range l.ch {
		go func(ch chan job) {
			for {
				select {
				case <-ctx.Done():
					return
				case j := <-ch:
					l.handle(ctx, j)
				}
			}
		}(l.ch[i])
	}
}

func (l *lanes) handle(ctx context.Context, j job) {
	b := l.b
	if j.lookup && !b.identify(ctx, &j) {
		// The sender left the nick before the WHOIS answered (someone else may have
		// it): nobody can be answered for this message, and an unidentified session
		// would send its replies to whoever holds the nick. They can write again.
		b.log.Info().Str("event_id", j.in.EventID).Msg("An IRC message's sender left its nick before being identified; dropped")
		return
	}
	// The core waits out a database outage itself; an error here means the bot is
	// stopping, and IRC will not deliver the message again.
	if err := b.svc.Handle(ctx, j.in); err != nil && ctx.Err() == nil {
		b.log.Err(err).Str("event_id", j.in.EventID).Msg("Could not handle an IRC message")
	} else if err != nil {
		b.log.Warn().Str("event_id", j.in.EventID).Msg("Stopping: an IRC message was not handled")
	}
}

// identify names the sender of a message on a server without account-tag, by WHOIS:
// their account, or an unidentified session. false: the sender no longer holds the
// nick, and the message is for nobody.
func (b *Bridge) identify(ctx context.Context, j *job) bool {
	acct, held := b.dir.lookup(ctx, j.nick, j.userhost)
	switch {
	case !held:
		return false
	case acct != "":
		b.dir.identified(acct, j.nick, j.userhost)
		j.in.Sender, j.in.Conversation = acct, acct
	default:
		j.in.Sender = b.dir.unidentified(j.nick, j.userhost)
		j.in.Conversation, j.in.Unidentified = j.in.Sender, true
	}
	return true
}
