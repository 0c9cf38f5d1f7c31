package irc

import (
	"context"
	"strings"
	"time"
)

// monitor asks the server to tell the bot when nick goes offline or comes back.
// When the list is full the least recently used nick is dropped, and with it
// the trust in whoever was on it.
func (d *directory) monitor(nick string) {
	d.mu.Lock()
	if !d.monitorOK {
		d.mu.Unlock()
		return
	}
	fn := d.fold(nick)
	_, already := d.monitored[fn]
	d.monitored[fn] = time.Now()
	var evict string
	if !already && len(d.monitored) > d.monMax {
		oldest := time.Now()
		for k, t := range d.monitored {
			if k != fn && t.Before(oldest) {
				evict, oldest = k, t
			}
		}
		delete(d.monitored, evict)
		delete(d.watching, evict)
		if p := d.byNick[evict]; p != nil {
			p.nick = ""
			delete(d.byNick, evict)
		}
		d.endSessionLocked(evict)
	}
	d.mu.Unlock()
	if evict != "" {
		d.b.out.queueControl("MONITOR", "-", evict)
	}
	if !already {
		d.b.out.queueControl("MONITOR", "+", nick)
	}
}

// offline handles RPL_MONOFFLINE (731): each nick listed is gone. It also
// answers a MONITOR +: from now on the server reports the nick's changes.
func (d *directory) offline(list string) {
	for _, nick := range strings.Split(list, ",") {
		if nick != "" {
			d.gone(nick)
			d.answered(nick)
		}
	}
}

// answered notes that the server watches a nick for the bot: a 730 or 731 came
// for it while it is on the MONITOR list.
func (d *directory) answered(nick string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	fn := d.fold(nick)
	if _, ok := d.monitored[fn]; ok {
		d.watching[fn] = true
	}
}

// online handles RPL_MONONLINE (730), "nick!user@host,…". A nick the bot
// trusts but now seen from another connection is no longer trusted (someone
// took it in the moment before the MONITOR was in place); a nick where someone
// the bot is waiting for was last seen is checked with WHOIS.
func (d *directory) online(list string) {
	for _, nuh := range strings.Split(list, ",") {
		nick, userhost, _ := strings.Cut(nuh, "!")
		if nick == "" {
			continue
		}
		d.mu.Lock()
		fn := d.fold(nick)
		check := false
		if p := d.byNick[fn]; p != nil {
			if userhost != "" && p.userhost != "" && p.userhost != userhost {
				p.nick = ""
				delete(d.byNick, fn)
				check = true
			}
		} else {
			for _, p := range d.people { // someone the outbox waits for (see resolve)
				if p.nick == "" && !p.resolved.IsZero() && (d.fold(p.lastNick) == fn || d.fold(p.account) == fn) {
					check = true
					break
				}
			}
		}
		if s := d.sessions[fn]; s != nil && userhost != "" && s.userhost != userhost {
			d.endSessionLocked(fn)
		}
		if _, ok := d.monitored[fn]; ok {
			d.watching[fn] = true // after the checks above: a changed holder is not trusted
		}
		d.mu.Unlock()
		if check {
			d.whoisNick(nick, nil)
		}
	}
}

// resolve looks for an account whose messages wait: WHOIS on the nick it was
// last seen with and on the account name itself (most people's nick), and MONITOR
// on both, so that the server says when either comes online (then WHOIS 330
// confirms it is them, and the outbox is kicked). Once per time they are away:
// the outbox retries every few seconds, and a WHOIS each time, for every person
// away, would eat the flood budget the replies need. Without MONITOR it asks
// again every minute.
func (d *directory) resolve(account string) {
	if d.b.current() == nil {
		return // asked again after the reconnect, when WHOIS can be answered
	}
	d.mu.Lock()
	p := d.personLocked(account)
	again := 24 * time.Hour
	if !d.monitorOK {
		again = time.Minute
	}
	if !p.resolved.IsZero() && time.Since(p.resolved) < again {
		d.mu.Unlock()
		return
	}
	p.resolved = time.Now()
	nicks := []string{p.lastNick}
	if d.fold(p.lastNick) != d.fold(account) {
		nicks = append(nicks, account)
	}
	d.mu.Unlock()
	for _, n := range nicks {
		d.monitor(n)
		d.whoisNick(n, nil)
	}
}

// whoisNick sends a WHOIS unless one is already out for the nick; wait, if
// given, receives the account (or "") when the answer is complete.
func (d *directory) whoisNick(nick string, wait chan whoisAnswer) {
	d.mu.Lock()
	fn := d.fold(nick)
	w := d.whois[fn]
	send := w == nil
	if send {
		w = &whoisReq{}
		d.whois[fn] = w
	}
	if wait != nil {
		w.waiters = append(w.waiters, wait)
	}
	d.mu.Unlock()
	if send {
		d.b.out.queueControl("WHOIS", nick)
	}
}

// whoisUser (311) and whoisAccount (330) gather the answer; whoisEnd (318)
// completes it.
func (d *directory) whoisUser(nick, user, host string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if w := d.whois[d.fold(nick)]; w != nil {
		w.userhost = user + "@" + host
	}
}

func (d *directory) whoisAccount(nick, account string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if w := d.whois[d.fold(nick)]; w != nil {
		w.account = account
	}
}

func (d *directory) whoisEnd(nick string) {
	d.mu.Lock()
	fn := d.fold(nick)
	w := d.whois[fn]
	delete(d.whois, fn)
	if w == nil {
		d.mu.Unlock()
		return
	}
	_, known := d.people[d.fold(w.account)]
	d.mu.Unlock()
	for _, ch := range w.waiters {
		ch <- whoisAnswer{account: w.account, userhost: w.userhost}
	}
	if w.account != "" && known {
		d.identified(w.account, nick, w.userhost)
	}
}

// lookup is the WHOIS 330 fallback for servers without account-tag: it returns
// the account nick is logged in to, or "" (none, or no answer within 10 s).
// userhost is that of the message being identified: between the message and the
// WHOIS the nick may have changed hands, and the answer then names whoever holds
// it now (or nobody). Then held is false: the sender no longer has the nick, and a
// reply to it would reach whoever takes it. (So too when the connection dropped
// before the answer: nobody knows who has the nick after the reconnect.)
func (d *directory) lookup(ctx context.Context, nick, userhost string) (account string, held bool) {
	ch := make(chan whoisAnswer, 1)
	d.whoisNick(nick, ch)
	t := time.NewTimer(10 * time.Second)
	defer t.Stop()
	select {
	case a := <-ch:
		if a.userhost != userhost {
			return "", false
		}
		return a.account, true
	case <-t.C:
	case <-ctx.Done():
	}
	return "", true
}
