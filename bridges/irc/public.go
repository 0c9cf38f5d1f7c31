package irc

import (
	"strings"
	"sync"
	"time"
	"unicode"

	"golang.org/x/time/rate"

	"switchboard/internal/ircnick"
)

// public answers in the configured channels. The bot never talks about a case
// in public and never repeats what someone wrote there: to "!help", to a
// message that mentions it (someone starting to tell their story to it, say),
// it answers with one line inviting a private message. Everything else in a
// channel is ignored, and nothing from a channel reaches the core.
type public struct {
	b        *Bridge
	channels map[string]bool

	mu      sync.Mutex
	perChan map[string]*rate.Limiter
	perNick map[string]time.Time
}

// Pointers per channel: a burst of three, then one every ten seconds, so the bot
// cannot be made to flood a channel; and one per person per minute.
const (
	pointerEvery   = 10 * time.Second
	pointerBurst   = 3
	pointerPerNick = time.Minute
)

func newPublic(b *Bridge, channels []string) *public {
	p := &public{b: b, channels: map[string]bool{}, perChan: map[string]*rate.Limiter{}, perNick: map[string]time.Time{}}
	for _, c := range channels {
		p.channels[ircnick.Fold(c)] = true
	}
	return p
}

func (p *public) message(s *session, channel, nick, text string) {
	ch := ircnick.Fold(channel)
	if !p.channels[ch] || !addressed(CleanInput(text), s.conn.CurrentNick()) || !p.allow(ch, ircnick.Fold(nick)) {
		return
	}
	line := p.b.cat.Text(p.b.cfg.DefaultLanguage, "switchboard-irc-public-pointer", nick, s.conn.CurrentNick())
	lines := SplitLines(line, lineBudget(s.conn.CurrentNick(), channel, s.userLen, s.hostLen))
	if len(lines) == 0 {
		return
	}
	p.b.out.queue([]outLine{{cmd: "PRIVMSG", params: []string{channel, lines[0]}}})
	p.b.log.Info().Str("channel", channel).Msg("Pointed someone in a public channel to a private message")
}

func (p *public) allow(ch, nick string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if last, ok := p.perNick[ch+" "+nick]; ok && now.Sub(last) < pointerPerNick {
		return false
	}
	lim := p.perChan[ch]
	if lim == nil {
		lim = rate.NewLimiter(rate.Every(pointerEvery), pointerBurst)
		p.perChan[ch] = lim
	}
	if !lim.Allow() {
		return false
	}
	for k, t := range p.perNick { // keep the map small
		if now.Sub(t) > pointerPerNick {
			delete(p.perNick, k)
		}
	}
	p.perNick[ch+" "+nick] = now
	return true
}

// addressed reports whether a channel message is for the bot: "!help", or its
// nick as a word anywhere ("Switchboard: …", "hi switchboard", "@Switchboard").
func addressed(text, botNick string) bool {
	first, _, _ := strings.Cut(text, " ")
	if strings.EqualFold(first, "!help") {
		return true
	}
	words := strings.FieldsFunc(ircnick.Fold(text), func(r rune) bool {
		return unicode.IsSpace(r) || strings.ContainsRune(",:;.!?@()<>\"'", r)
	})
	for _, w := range words {
		if w == ircnick.Fold(botNick) {
			return true
		}
	}
	return false
}
