package testenv

import (
	"bufio"
	"context"
	"encoding/base64"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ergochat/irc-go/ircmsg"

	"switchboard/internal/ircnick"
)

// IRCMsg is a PRIVMSG or NOTICE the client received.
type IRCMsg struct {
	Command string // PRIVMSG or NOTICE
	From    string // the sender's nick (or server name)
	Target  string // our nick or a channel
	Text    string
	Tags    map[string]string
	Time    time.Time // when it arrived
}

// IRCClient is a scripted IRC user written on the raw protocol, so tests can
// send what a real client would refuse to (NUL, invalid UTF-8, overlong
// lines). It answers PINGs and records every line it receives.
type IRCClient struct {
	// ExpectTimeout bounds the helpers that take a testing.TB.
	ExpectTimeout time.Duration

	conn net.Conn
	wmu  sync.Mutex

	mu       sync.Mutex
	changed  chan struct{}
	nick     string
	account  string
	lines    []ircmsg.Message
	lineCur  int
	msgs     []IRCMsg
	cursor   int
	closed   bool
	closeErr error
}

// DialIRC connects, negotiates message-tags, server-time and account-tag,
// logs in to account with SASL PLAIN when account is set, and returns once
// the server has welcomed the client. The caller closes it.
func DialIRC(ctx context.Context, addr, nick, account, password string) (*IRCClient, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	c := &IRCClient{ExpectTimeout: 20 * time.Second, conn: conn, changed: make(chan struct{}), nick: nick}
	go c.read()
	if err := c.handshake(ctx, nick, account, password); err != nil {
		c.Close()
		return nil, fmt.Errorf("testenv: IRC client %s: %w", nick, err)
	}
	return c, nil
}

// NewIRCClient is DialIRC for a test: it fails the test on error and closes
// the client when the test ends.
func NewIRCClient(tb testing.TB, n *IRC, nick, account, password string) *IRCClient {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := DialIRC(ctx, n.Addr(), nick, account, password)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(c.Close)
	return c
}

func (c *IRCClient) handshake(ctx context.Context, nick, account, password string) error {
	caps := "message-tags server-time account-tag"
	if account != "" {
		caps += " sasl"
	}
	_ = c.SendRaw("CAP LS 302")
	_ = c.SendRaw("CAP REQ :" + caps)
	if _, err := c.WaitLine(ctx, func(m ircmsg.Message) bool { return m.Command == "CAP" && len(m.Params) > 1 && m.Params[1] == "ACK" }); err != nil {
		return err
	}
	if account != "" {
		_ = c.SendRaw("AUTHENTICATE PLAIN")
		if _, err := c.WaitLine(ctx, func(m ircmsg.Message) bool { return m.Command == "AUTHENTICATE" }); err != nil {
			return err
		}
		_ = c.SendRaw("AUTHENTICATE " + base64.StdEncoding.EncodeToString([]byte(account+"\x00"+account+"\x00"+password)))
		m, err := c.WaitLine(ctx, func(m ircmsg.Message) bool { return m.Command == "903" || m.Command == "904" || m.Command == "905" })
		if err != nil {
			return err
		}
		if m.Command != "903" {
			return fmt.Errorf("SASL login as %s failed: %s", account, strings.Join(m.Params, " "))
		}
		c.mu.Lock()
		c.account = account
		c.mu.Unlock()
	}
	_ = c.SendRaw("CAP END")
	_ = c.SendRaw("NICK " + nick)
	_ = c.SendRaw("USER " + ircName(nick, 10) + " 0 * :testenv " + nick)
	m, err := c.WaitLine(ctx, func(m ircmsg.Message) bool { return m.Command == "001" || m.Command == "433" || m.Command == "432" })
	if err != nil {
		return err
	}
	if m.Command != "001" {
		return fmt.Errorf("nick %s refused: %s", nick, strings.Join(m.Params, " "))
	}
	return nil
}

func (c *IRCClient) read() {
	r := bufio.NewReaderSize(c.conn, 16384)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			c.mu.Lock()
			c.closed, c.closeErr = true, err
			c.notifyLocked()
			c.mu.Unlock()
			return
		}
		m, err := ircmsg.ParseLineStrict(strings.TrimRight(line, "\r\n"), false, 0)
		if err != nil {
			continue
		}
		if m.Command == "PING" {
			_ = c.SendRaw("PONG :" + strings.Join(m.Params, " "))
			continue
		}
		c.record(m)
	}
}

func (c *IRCClient) record(m ircmsg.Message) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lines = append(c.lines, m)
	switch m.Command {
	case "NICK":
		if ircnick.Fold(m.Nick()) == ircnick.Fold(c.nick) && len(m.Params) > 0 {
			c.nick = m.Params[0]
		}
	case "PRIVMSG", "NOTICE":
		if len(m.Params) < 2 {
			break
		}
		tags := map[string]string{}
		for k, v := range m.AllTags() {
			tags[k] = v
		}
		c.msgs = append(c.msgs, IRCMsg{Command: m.Command, From: m.Nick(), Target: m.Params[0], Text: m.Params[1], Tags: tags, Time: time.Now()})
	}
	c.notifyLocked()
}

func (c *IRCClient) notifyLocked() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// SendRaw writes one line as given, adding CRLF: bytes are not checked.
func (c *IRCClient) SendRaw(line string) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	_, err := c.conn.Write([]byte(line + "\r\n"))
	return err
}

// Privmsg sends text to a nick or channel.
func (c *IRCClient) Privmsg(target, text string) error {
	return c.SendRaw("PRIVMSG " + target + " :" + text)
}

// Nick is the client's current nick.
func (c *IRCClient) Nick() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nick
}

// Account is the services account the client logged in to, if any.
func (c *IRCClient) Account() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.account
}

// SetNick changes the nick and waits for the server to confirm it.
func (c *IRCClient) SetNick(ctx context.Context, nick string) error {
	old := c.Nick()
	if ircnick.Fold(old) == ircnick.Fold(nick) {
		return nil
	}
	if err := c.SendRaw("NICK " + nick); err != nil {
		return err
	}
	m, err := c.WaitLine(ctx, func(m ircmsg.Message) bool {
		return (m.Command == "NICK" && ircnick.Fold(m.Nick()) == ircnick.Fold(old)) || m.Command == "433" || m.Command == "432"
	})
	if err != nil {
		return err
	}
	if m.Command != "NICK" {
		return fmt.Errorf("nick %s refused: %s", nick, strings.Join(m.Params, " "))
	}
	return nil
}

// Join joins a channel and waits until the server has sent its names list.
func (c *IRCClient) Join(ctx context.Context, channel string) error {
	if err := c.SendRaw("JOIN " + channel); err != nil {
		return err
	}
	_, err := c.WaitLine(ctx, func(m ircmsg.Message) bool {
		return m.Command == "366" && len(m.Params) > 1 && ircnick.Fold(m.Params[1]) == ircnick.Fold(channel)
	})
	return err
}

// Quit says goodbye and waits (up to 10 s) for the server to close the link:
// once Quit returns, the server has let go of the nick, so a message sent to it
// afterwards is answered "no such nick" instead of reaching a closing socket.
func (c *IRCClient) Quit() {
	if c.SendRaw("QUIT :bye") == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_ = c.WaitClosed(ctx)
		cancel()
	}
	c.Close()
}

// Close drops the connection.
func (c *IRCClient) Close() { _ = c.conn.Close() }

// Closed reports whether the connection has ended.
func (c *IRCClient) Closed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}
