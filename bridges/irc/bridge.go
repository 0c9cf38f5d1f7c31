// Package irc connects Switchboard to an IRC network (Libera.Chat and the like)
// with ergochat/irc-go: it logs in to the bot's services account with SASL,
// knows people by their services account (never by their nick, which anyone may
// take), turns private messages into bot.Inbound values, sends the outbox under
// the server's flood limits, and answers in public channels with a pointer to a
// private message only. It holds no help-desk logic.
package irc

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ergochat/irc-go/ircevent"
	"github.com/rs/zerolog"

	"switchboard/bot"
	"switchboard/i18n"
	"switchboard/internal/ircnick"
)

// Config is what the bridge needs from the configuration.
type Config struct {
	Server   string // host:port
	TLS      bool
	Nick     string
	Account  string // the bot's services account, for SASL PLAIN
	Password string
	Channels []string
	// FloodRate and FloodBurst size the token bucket every line passes: keep
	// them under the server's limits (see config.example.yaml).
	FloodRate  float64
	FloodBurst int
	// ReconnectMin and ReconnectMax bound the backoff between connection attempts.
	ReconnectMin, ReconnectMax time.Duration
	// DefaultLanguage is the language of the public-channel pointer.
	DefaultLanguage string

	// withoutAccountTag leaves account-tag out of the requested caps, as on a
	// server without it; tests use it for the WHOIS 330 fallback.
	withoutAccountTag bool
	// tlsRoots, when set, replaces the system's roots (the test network's own CA).
	tlsRoots *x509.CertPool
}

// caps are requested on every connection; a server without one still works.
// extended-monitor brings ACCOUNT changes of watched nicks without sharing a channel.
var caps = []string{"account-tag", "account-notify", "extended-join", "message-tags", "server-time", "extended-monitor"}

// Bridge is the IRC side of the bot.
type Bridge struct {
	cfg    Config
	svc    *bot.Service
	outbox *bot.Outbox
	cat    *i18n.Catalogue
	log    zerolog.Logger
	out    *writer
	dir    *directory
	in     *lanes
	public *public
	away   awayQueue

	mu      sync.Mutex
	sess    *session      // the registered connection, nil while there is none
	up      chan struct{} // closed while sess is set; replaced when it goes
	connect int64         // connections made, for logs and tests
}

// session is one registered connection. Its token makes event IDs and the
// identities of unidentified people unique to it.
type session struct {
	conn       *ircevent.Connection
	token      string
	accountTag bool
	monitorMax int
	userLen    int
	hostLen    int
	// targets is how many recipients one PRIVMSG may have here (1: no more than one).
	targets int
	// nickLen is the longest nick the network allows (NICKLEN; 0 if not said).
	nickLen int
}

// maxPackedNick bounds the nick length replies are packed for (see Send): the first
// answer stays two lines up to it (TestFirstAnswerIsTwoLines).
const maxPackedNick = 30

// New prepares the bridge; Run connects.
func New(cfg Config, svc *bot.Service, outbox *bot.Outbox, cat *i18n.Catalogue, log zerolog.Logger) *Bridge {
	if cfg.FloodRate <= 0 {
		cfg.FloodRate = 1
	}
	if cfg.FloodBurst < 2 {
		cfg.FloodBurst = 2 // a control line takes two tokens
	}
	if cfg.ReconnectMin <= 0 {
		cfg.ReconnectMin = time.Second
	}
	if cfg.ReconnectMax < cfg.ReconnectMin {
		cfg.ReconnectMax = max(cfg.ReconnectMin, 2*time.Minute)
	}
	b := &Bridge{cfg: cfg, svc: svc, outbox: outbox, cat: cat, log: log, up: make(chan struct{})}
	b.out = newWriter(cfg.FloodRate, cfg.FloodBurst, b.current)
	b.dir = newDirectory(b)
	b.in = newLanes(b)
	b.public = newPublic(b, cfg.Channels)
	return b
}

func (b *Bridge) current() *session {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.sess
}

// Connections tells how many times the bot has registered with the server.
func (b *Bridge) Connections() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.connect
}

// waitConnected waits up to d for a registered connection.
func (b *Bridge) waitConnected(ctx context.Context, d time.Duration) *session {
	b.mu.Lock()
	s, up := b.sess, b.up
	b.mu.Unlock()
	if s != nil {
		return s
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-up:
		return b.current()
	case <-t.C:
	case <-ctx.Done():
	}
	return nil
}

// Run keeps the bot connected until ctx ends: it reconnects with exponential
// backoff after every failure, the first connection included (irc-go's own
// Loop never retries a first Connect that failed).
func (b *Bridge) Run(ctx context.Context) error {
	go b.out.run(ctx)
	go b.in.run(ctx)
	backoff := b.cfg.ReconnectMin
	for attempt := 1; ; attempt++ {
		start := time.Now()
		err := b.session(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if time.Since(start) > time.Minute {
			backoff = b.cfg.ReconnectMin // it was up for a while: a fresh failure
		}
		b.log.Warn().Err(err).Str("server", b.cfg.Server).Int("attempt", attempt).Dur("retry_in", backoff).
			Msg("IRC connection ended or failed; reconnecting")
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, b.cfg.ReconnectMax)
	}
}

// session runs one connection from Connect to its end. Each connection gets a
// fresh irc-go Connection: a Quit one cannot be reused, and Quit is how Loop is
// told to return instead of reconnecting on its own schedule.
func (b *Bridge) session(ctx context.Context) error {
	s := &session{token: randomToken()}
	s.conn = b.newConn()
	b.register(s)
	if err := s.conn.Connect(); err != nil {
		return err
	}
	ended := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			s.conn.Quit()
			// A server that does not close the link after QUIT is not waited for.
			select {
			case <-ended:
			case <-time.After(2 * time.Second):
				s.conn.Reconnect() // with quit set, this only ends the connection
			}
		case <-ended:
		}
	}()
	s.conn.Loop() // returns once the connection is down and its goroutines stopped
	close(ended)
	b.lost(s)
	return fmt.Errorf("connection closed")
}

func requestCaps(withoutAccountTag bool) []string {
	out := make([]string, 0, len(caps))
	for _, c := range caps {
		if c != "account-tag" || !withoutAccountTag {
			out = append(out, c)
		}
	}
	return out
}

func (b *Bridge) newConn() *ircevent.Connection {
	conn := &ircevent.Connection{
		Server:       b.cfg.Server,
		Nick:         b.cfg.Nick,
		User:         "switchboard",
		RealName:     "Switchboard help desk",
		SASLLogin:    b.cfg.Account,
		SASLPassword: b.cfg.Password,
		RequestCaps:  requestCaps(b.cfg.withoutAccountTag),
		UseTLS:       b.cfg.TLS,
		Timeout:      30 * time.Second,
		KeepAlive:    2 * time.Minute,
		QuitMessage:  "Switchboard is restarting",
		Version:      "Switchboard",
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			var d net.Dialer
			c, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return withQuickAck(c), nil // TLS, if on, wraps this
		},
		// irc-go's own log says little (reconnects, protocol errors), never a
		// message; it goes to ours at debug level.
		Log: log.New(debugWriter{b.log}, "", 0),
	}
	if b.cfg.TLS {
		host, _, err := net.SplitHostPort(b.cfg.Server)
		if err != nil {
			host = b.cfg.Server
		}
		conn.TLSConfig = &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12, RootCAs: b.cfg.tlsRoots}
	}
	return conn
}

type debugWriter struct{ log zerolog.Logger }

func (w debugWriter) Write(p []byte) (int, error) {
	w.log.Debug().Str("component", "irc-go").Str("detail", string(p)).Msg("irc-go")
	return len(p), nil
}

// registered runs once the server has welcomed the bot (end of MOTD): the session
// becomes current, channels are joined again, identities are checked again.
func (b *Bridge) registered(s *session) {
	is := s.conn.ISupport()
	s.monitorMax, _ = strconv.Atoi(is["MONITOR"])
	s.userLen, _ = strconv.Atoi(is["USERLEN"])
	s.hostLen, _ = strconv.Atoi(is["HOSTLEN"])
	s.targets = privmsgTargets(is)
	s.nickLen, _ = strconv.Atoi(is["NICKLEN"])
	acked := s.conn.AcknowledgedCaps()
	_, s.accountTag = acked["account-tag"]
	b.mu.Lock()
	b.sess = s
	b.connect++
	close(b.up)
	b.mu.Unlock()
	b.log.Info().Str("server", b.cfg.Server).Str("nick", s.conn.CurrentNick()).Bool("account_tag", s.accountTag).
		Int("monitor", s.monitorMax).Int("targets", s.targets).Msg("Connected to IRC")
	for _, ch := range b.cfg.Channels {
		b.out.queueControl("JOIN", ch)
	}
	b.dir.reconnected(s)
	b.regainNick(s)
	b.outbox.Kick()
}

// privmsgTargets reads how many targets a PRIVMSG may name from ISUPPORT (TARGMAX,
// or the older MAXTARGETS), at most maxTargets; 1 when the server does not say.
func privmsgTargets(is map[string]string) int {
	n := 0
	if v, ok := is["TARGMAX"]; ok {
		for _, kv := range strings.Split(v, ",") {
			if cmd, lim, ok := strings.Cut(kv, ":"); ok && strings.EqualFold(cmd, "PRIVMSG") {
				if lim == "" {
					n = maxTargets // no limit
				} else {
					n, _ = strconv.Atoi(lim)
				}
			}
		}
	} else if v, ok := is["MAXTARGETS"]; ok {
		n, _ = strconv.Atoi(v)
	}
	return max(1, min(n, maxTargets))
}

// regainNick takes the configured nick back when the server gave the bot another
// one: after a quick restart the old connection may still hold it until it times
// out, and people writing to the nick would reach nobody. NickServ GHOST (the bot is
// logged in to the account that owns the nick) ends that connection, and MONITOR
// says when the nick is free, which is when the bot asks for it.
func (b *Bridge) regainNick(s *session) {
	if ircnick.Fold(s.conn.CurrentNick()) == ircnick.Fold(b.cfg.Nick) {
		return
	}
	b.log.Warn().Str("nick", s.conn.CurrentNick()).Str("wanted", b.cfg.Nick).Msg("The bot's nick is taken; asking NickServ to free it")
	b.out.queueControl("MONITOR", "+", b.cfg.Nick)
	b.out.queueControl("PRIVMSG", "NickServ", "GHOST "+b.cfg.Nick)
}

// nickFree: a MONITOR offline line listed the configured nick.
func (b *Bridge) nickFree(s *session, list string) {
	if ircnick.Fold(s.conn.CurrentNick()) == ircnick.Fold(b.cfg.Nick) {
		return
	}
	for _, n := range strings.Split(list, ",") {
		if ircnick.Fold(n) == ircnick.Fold(b.cfg.Nick) {
			b.out.queueControl("NICK", b.cfg.Nick)
		}
	}
}

// Connected reports whether the bot is connected and registered (for readiness).
func (b *Bridge) Connected() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.sess != nil
}

// lost forgets a connection that ended.
func (b *Bridge) lost(s *session) {
	b.mu.Lock()
	if b.sess == s {
		b.sess = nil
		b.up = make(chan struct{})
	}
	b.mu.Unlock()
	b.out.connectionLost()
	b.dir.disconnected()
}
