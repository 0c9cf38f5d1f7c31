package testenv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// IRC is a real IRC network for tests on 127.0.0.1: Debian's InspIRCd 3 linked
// to Atheme 7 services, the nearest to Libera.Chat's Solanum + Atheme that
// installs here. It offers SASL PLAIN, NickServ accounts, account-tag,
// account-notify, extended-join, MONITOR and msgid, in plain text (Addr) and
// over TLS with a self-signed certificate (TLSAddr, CertPool). Both run as our children,
// watched through Wait, and die with the test binary.
type IRC struct {
	dir       string
	port      int
	linkPort  int
	toolsPort int // the registrar's, without flood limits
	tlsPort   int
	certPEM   []byte
	linkPass  string
	inspircd  string
	atheme    string

	mu       sync.Mutex
	ircd     *child
	services *child
	synced   int // "finished synching" lines seen in the services log so far

	regMu     sync.Mutex
	registrar *IRCClient
}

// ircReady is what Atheme logs once it has linked to the server and received
// its burst: from then on SASL and NickServ answer.
const ircReady = "finished synching with uplink"

// StartIRC writes the configs to a temp dir and starts the network on free
// loopback ports.
func StartIRC() (*IRC, error) {
	inspircd, err := lookTool("inspircd", "/usr/sbin/inspircd")
	if err != nil {
		return nil, err
	}
	atheme, err := lookTool("atheme-services", "/usr/bin/atheme-services")
	if err != nil {
		return nil, err
	}
	dir, err := makeTempDir("", "switchboard-irc-")
	if err != nil {
		return nil, err
	}
	n := &IRC{dir: dir, inspircd: inspircd, atheme: atheme, linkPass: randomHex(12)}
	// Ports may be taken between choosing and binding: a few fresh tries.
	for attempt := 0; ; attempt++ {
		if n.port, err = freePort(); err == nil {
			if n.linkPort, err = freePort(); err == nil {
				if n.toolsPort, err = freePort(); err == nil {
					if n.tlsPort, err = freePort(); err == nil {
						if err = n.writeConfigs(); err == nil {
							if err = n.Up(); err == nil {
								return n, nil
							}
						}
					}
				}
			}
		}
		n.Stop()
		if attempt == 2 || !strings.Contains(err.Error(), "in use") {
			return nil, err
		}
		if err = os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
	}
}

func lookTool(name, fallback string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	if _, err := os.Stat(fallback); err == nil {
		return fallback, nil
	}
	return "", fmt.Errorf("testenv: %s not found (apt-get install inspircd atheme-services)", name)
}

// Addr is the client address, host:port.
func (n *IRC) Addr() string { return fmt.Sprintf("127.0.0.1:%d", n.port) }

func (n *IRC) path(name string) string { return filepath.Join(n.dir, name) }

// LogTail returns the end of both servers' logs, for failure messages.
func (n *IRC) LogTail(lines int) string {
	return "inspircd:\n" + tailFile(n.path("inspircd.log"), lines) + "\natheme:\n" + tailFile(n.path("atheme.log"), lines)
}

// Up starts whatever is not running and waits until services have synched
// with the server, so SASL works for the next client.
func (n *IRC) Up() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	want := n.synced + 1
	if running(n.ircd) && running(n.services) {
		return nil
	}
	if !running(n.ircd) {
		proc, err := n.spawn("inspircd.out", syscall.SIGKILL, n.inspircd,
			"--config", n.path("inspircd.conf"), "--nofork", "--runasroot")
		if err != nil {
			return err
		}
		n.ircd = proc
		if err := n.waitPort(proc); err != nil {
			return err
		}
	}
	if !running(n.services) {
		proc, err := n.spawn("atheme.out", syscall.SIGKILL, n.atheme,
			"-n", "-c", n.path("atheme.conf"), "-D", n.dir, "-l", n.path("atheme.log"), "-p", n.path("atheme.pid"))
		if err != nil {
			return err
		}
		n.services = proc
	}
	return n.waitSynced(want)
}

func running(c *child) bool {
	if c == nil {
		return false
	}
	select {
	case <-c.exited:
		return false
	default:
		return true
	}
}

func (n *IRC) spawn(out string, deathSig syscall.Signal, bin string, args ...string) (*child, error) {
	logf, err := os.OpenFile(n.path(out), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd := exec.Command(bin, args...)
	cmd.Dir = n.dir
	cmd.Stdout, cmd.Stderr = logf, logf
	proc, err := startWatched(cmd, deathSig)
	if err != nil {
		return nil, fmt.Errorf("testenv: start %s: %w", filepath.Base(bin), err)
	}
	return proc, nil
}

func (n *IRC) waitPort(proc *child) error {
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", n.Addr(), time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			proc.stop(syscall.SIGKILL, time.Second)
			return fmt.Errorf("testenv: inspircd not listening after 20s: %v\n%s", err, n.LogTail(20))
		}
		select {
		case <-proc.exited:
			out := tailFile(n.path("inspircd.out"), 20)
			if strings.Contains(out, "in use") {
				return fmt.Errorf("testenv: inspircd: port in use\n%s", out)
			}
			return fmt.Errorf("testenv: inspircd exited during startup (%v)\n%s\n%s", proc.err, out, tailFile(n.path("inspircd.log"), 20))
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// waitSynced waits for the want-th "finished synching" line: Atheme reconnects
// to a restarted server on its own (recontime 1 s) and logs it again.
func (n *IRC) waitSynced(want int) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		data, _ := os.ReadFile(n.path("atheme.log"))
		if got := strings.Count(string(data), ircReady); got >= want {
			n.synced = got
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("testenv: services did not link within 30s\n%s", n.LogTail(20))
		}
		select {
		case <-n.services.exited:
			return fmt.Errorf("testenv: atheme exited (%v)\n%s\n%s", n.services.err, tailFile(n.path("atheme.out"), 20), n.LogTail(20))
		case <-n.ircd.exited:
			return fmt.Errorf("testenv: inspircd exited (%v)\n%s", n.ircd.err, n.LogTail(20))
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// Down stops the IRC server (SIGTERM: it closes every client link with an
// ERROR, as an operator's restart does). Services stay up and keep the
// accounts; they relink when the server is back.
func (n *IRC) Down() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.ircd != nil {
		n.ircd.stop(syscall.SIGTERM, 5*time.Second)
	}
	return nil
}

// Restart stops and starts the server on the same ports: clients reconnect to
// the same address, and accounts are still there.
func (n *IRC) Restart() error {
	if err := n.Down(); err != nil {
		return err
	}
	return n.Up()
}

// Stop shuts both down and deletes the network's dir. Safe to call twice.
func (n *IRC) Stop() {
	n.regMu.Lock()
	if n.registrar != nil {
		n.registrar.Close()
		n.registrar = nil
	}
	n.regMu.Unlock()
	n.mu.Lock()
	for _, c := range []*child{n.services, n.ircd} {
		if c != nil {
			c.stop(syscall.SIGTERM, 5*time.Second)
		}
	}
	n.mu.Unlock()
	_ = os.RemoveAll(n.dir)
}

// Register creates a NickServ account. One registrar connection, kept open,
// takes each name as its nick, registers it and logs out again: a fresh
// connection per account would cost InspIRCd's ~1 s registration delay.
func (n *IRC) Register(ctx context.Context, account, password string) error {
	n.regMu.Lock()
	defer n.regMu.Unlock()
	for attempt := 0; ; attempt++ {
		err := n.register(ctx, account, password)
		if err == nil || attempt == 1 || ctx.Err() != nil || !errors.Is(err, errRegistrarGone) {
			return err
		}
	}
}

var errRegistrarGone = errors.New("testenv: registrar connection lost")

func (n *IRC) register(ctx context.Context, account, password string) error {
	r := n.registrar
	if r == nil || r.Closed() {
		var err error
		if r, err = DialIRC(ctx, fmt.Sprintf("127.0.0.1:%d", n.toolsPort), "reg"+randomHex(4), "", ""); err != nil {
			return err
		}
		n.registrar = r
	}
	home := r.Nick()
	fail := func(err error) error {
		if r.Closed() {
			n.registrar = nil
			return fmt.Errorf("%w: %v", errRegistrarGone, err)
		}
		return err
	}
	if err := r.SetNick(ctx, account); err != nil {
		return fail(fmt.Errorf("testenv: register %s: %w", account, err))
	}
	defer func() { _ = r.SetNick(ctx, home) }()
	if err := r.Privmsg("NickServ", "REGISTER "+password+" "+account+"@users.test"); err != nil {
		return fail(err)
	}
	m, err := r.WaitFor(ctx, func(m IRCMsg) bool { return m.From == "NickServ" })
	if err != nil {
		return fail(fmt.Errorf("testenv: register %s: %w", account, err))
	}
	if !strings.Contains(m.Text, "is now registered") {
		return fmt.Errorf("testenv: register %s: NickServ said %q", account, m.Text)
	}
	if err := r.Privmsg("NickServ", "LOGOUT"); err != nil {
		return fail(err)
	}
	if _, err := r.WaitFor(ctx, func(m IRCMsg) bool { return m.From == "NickServ" }); err != nil {
		return fail(err)
	}
	return nil
}

// NewAccount registers an account whose name starts with prefix and is unique
// in this network; it returns the name and a random password.
func (n *IRC) NewAccount(tb testing.TB, prefix string) (account, password string) {
	tb.Helper()
	account = fmt.Sprintf("%s%d%s", ircName(prefix, 12), userCounter.Add(1), randomHex(2))
	password = randomHex(10)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := n.Register(ctx, account, password); err != nil {
		tb.Fatalf("%v\n%s", err, n.LogTail(20))
	}
	return account, password
}

// ircName makes a prefix safe as a nick: letters first, then letters and digits.
func ircName(s string, max int) string {
	s = strings.ReplaceAll(slug(s, max), "_", "")
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		s = "u" + s
	}
	return s
}
