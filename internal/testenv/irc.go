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
	held     []int // reserved ports, released by Stop
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
	// A foreign program may still bind a reserved port just before InspIRCd
	// does (see reservePort): a few tries on fresh ports.
	for attempt := 0; ; attempt++ {
		if err = n.reservePorts(); err == nil {
			if err = n.writeConfigs(); err == nil {
				if err = n.Up(); err == nil {
					return n, nil
				}
			}
		}
		n.Stop()
		if attempt == 2 || !errors.Is(err, errPortInUse) {
			return nil, err
		}
		if err = os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
	}
}

// errPortInUse: a server could not bind one of its ports.
var errPortInUse = errors.New("testenv: port in use")

func (n *IRC) reservePorts() error {
	for _, p := range []*int{&n.port, &n.linkPort, &n.toolsPort, &n.tlsPort} {
		port, err := reservePort()
		if err != nil {
			return err
		}
		*p = port
		n.mu.Lock()
		n.held = append(n.held, port)
		n.mu.Unlock()
	}
	return nil
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
		// The output file is appended to at each start; this start's part
		// begins at its current end.
		var from int64
		if st, err := os.Stat(n.path("inspircd.out")); err == nil {
			from = st.Size()
		}
		proc, err := n.spawn("inspircd.out", syscall.SIGKILL, n.inspircd,
			"--config", n.path("inspircd.conf"), "--nofork", "--runasroot")
		if err != nil {
			return err
		}
		n.ircd = proc
		if err := n.waitListening(proc, from); err != nil {
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

// ircListening is what InspIRCd prints once it has bound its ports; a port it
// could not bind is listed before it, under ircBindFailed, and InspIRCd runs on
// without it. Waiting for a connection to the client port instead would not do:
// it may be a foreign server that answers there.
const (
	ircListening  = "InspIRCd is now running"
	ircBindFailed = "failed to bind"
)

// waitListening waits until InspIRCd has bound every port, reading its output
// from offset from; a port it could not bind fails the start with errPortInUse.
func (n *IRC) waitListening(proc *child, from int64) error {
	deadline := time.Now().Add(20 * time.Second)
	for {
		out := readFrom(n.path("inspircd.out"), from)
		if strings.Contains(out, ircBindFailed) {
			proc.stop(syscall.SIGKILL, time.Second)
			return fmt.Errorf("%w: inspircd: %s", errPortInUse, out)
		}
		if strings.Contains(out, ircListening) {
			c, err := net.DialTimeout("tcp", n.Addr(), time.Second)
			if err != nil {
				proc.stop(syscall.SIGKILL, time.Second)
				return fmt.Errorf("testenv: inspircd says it runs but does not answer: %v\n%s", err, n.LogTail(20))
			}
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			proc.stop(syscall.SIGKILL, time.Second)
			return fmt.Errorf("testenv: inspircd not listening after 20s\n%s\n%s", out, n.LogTail(20))
		}
		select {
		case <-proc.exited:
			out = readFrom(n.path("inspircd.out"), from)
			if strings.Contains(out, "in use") {
				return fmt.Errorf("%w: inspircd: %s", errPortInUse, out)
			}
			return fmt.Errorf("testenv: inspircd exited during startup (%v)\n%s\n%s", proc.err, out, tailFile(n.path("inspircd.log"), 20))
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// readFrom returns a file's content from offset from, or "" if it cannot be read.
func readFrom(path string, from int64) string {
	data, err := os.ReadFile(path)
	if err != nil || int64(len(data)) < from {
		return ""
	}
	return string(data[from:])
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
	releasePorts(n.held...)
	n.held = nil
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
