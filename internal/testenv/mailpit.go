package testenv

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/mail"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Mailpit is a real SMTP server on loopback (github.com/axllent/mailpit, pinned in
// tools/mailpit) that keeps every message it accepts; tests read them back through
// its HTTP API. Each test starts its own (it is up in well under a second), so a
// test may stop it or make it refuse mail without disturbing others.
type Mailpit struct {
	bin      string
	dir      string
	smtpPort int
	httpPort int
	args     []string

	mu   sync.Mutex
	held []int // reserved ports, released by remove
	proc *child
}

// MailpitOptions adjust a Mailpit. TLSCert and TLSKey (PEM files) turn on STARTTLS,
// which RequireSTARTTLS makes mandatory. Without them, logins are taken in plain
// text, as net/smtp allows on loopback.
type MailpitOptions struct {
	TLSCert, TLSKey string
	RequireSTARTTLS bool
}

// MailpitBinDir returns the directory with the pinned Mailpit binary:
// $SWITCHBOARD_MAILPIT_BIN, or <repo>/.cache/bin, built by scripts/mailpit.sh
// (idempotent, locked against parallel builds) when missing or stale.
func MailpitBinDir() (string, error) {
	if dir := os.Getenv("SWITCHBOARD_MAILPIT_BIN"); dir != "" {
		return dir, nil
	}
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	cmd := exec.Command("bash", filepath.Join(root, "scripts", "mailpit.sh"))
	cmd.Dir = root
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("testenv: scripts/mailpit.sh: %w\n%s", err, stderr.String())
	}
	return strings.TrimSpace(string(out)), nil
}

// NewMailpit starts a Mailpit for this test on free loopback ports; it is stopped
// and deleted when the test ends. It accepts any login, also over plain text.
func NewMailpit(tb testing.TB, opts MailpitOptions) *Mailpit {
	tb.Helper()
	bin, err := MailpitBinDir()
	if err != nil {
		tb.Fatal(err)
	}
	dir, err := makeTempDir("", "switchboard-mailpit-")
	if err != nil {
		tb.Fatal(err)
	}
	m := &Mailpit{bin: bin, dir: dir}
	tb.Cleanup(m.remove)
	// No update check, no reverse DNS: nothing leaves the machine. Chaos lets a
	// test make the server refuse (Refuse).
	m.args = []string{"--disable-version-check", "--smtp-disable-rdns", "--quiet",
		"--database", filepath.Join(dir, "mailpit.db"),
		"--smtp-auth-accept-any", "--enable-chaos"}
	switch {
	case opts.TLSCert == "":
		m.args = append(m.args, "--smtp-auth-allow-insecure")
	case opts.RequireSTARTTLS:
		m.args = append(m.args, "--smtp-tls-cert", opts.TLSCert, "--smtp-tls-key", opts.TLSKey, "--smtp-require-starttls")
	default:
		m.args = append(m.args, "--smtp-tls-cert", opts.TLSCert, "--smtp-tls-key", opts.TLSKey)
	}
	// A foreign program may still bind a reserved port just before Mailpit does
	// (see reservePort): a few tries on fresh ports.
	for attempt := 0; ; attempt++ {
		if m.smtpPort, err = m.reservePort(); err == nil {
			if m.httpPort, err = m.reservePort(); err == nil {
				if err = m.Up(); err == nil {
					return m
				}
			}
		}
		m.releasePorts()
		if attempt == 2 || !strings.Contains(tailFile(filepath.Join(dir, "mailpit.log"), 5), "address already in use") {
			tb.Fatal(err)
		}
	}
}

// Up starts the server (again, after Down) on its ports and waits until it answers.
func (m *Mailpit) Up() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.proc != nil {
		select {
		case <-m.proc.exited:
		default:
			return nil // already up
		}
	}
	logf, err := os.OpenFile(filepath.Join(m.dir, "mailpit.log"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	args := append([]string{"--smtp", m.SMTPAddr(), "--listen", fmt.Sprintf("127.0.0.1:%d", m.httpPort)}, m.args...)
	cmd := exec.Command(filepath.Join(m.bin, "mailpit"), args...)
	cmd.Dir = m.dir
	cmd.Stdout, cmd.Stderr = logf, logf
	proc, err := startWatched(cmd, syscall.SIGKILL)
	if err != nil {
		return fmt.Errorf("testenv: start mailpit: %w", err)
	}
	m.proc = proc
	client := &http.Client{Timeout: time.Second}
	for deadline := time.Now().Add(20 * time.Second); ; {
		resp, err := client.Get(m.api("/readyz"))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-proc.exited:
			return fmt.Errorf("testenv: mailpit exited during startup (%v)\n%s", proc.err, tailFile(filepath.Join(m.dir, "mailpit.log"), 20))
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			proc.stop(syscall.SIGKILL, time.Second)
			return fmt.Errorf("testenv: mailpit not ready after 20s: %v", err)
		}
	}
}

// Down stops the server: connections to its SMTP port are then refused.
func (m *Mailpit) Down() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.proc != nil {
		m.proc.stop(syscall.SIGTERM, 5*time.Second)
	}
}

func (m *Mailpit) remove() {
	m.Down()
	m.releasePorts()
	_ = os.RemoveAll(m.dir)
}

func (m *Mailpit) reservePort() (int, error) {
	port, err := reservePort()
	if err == nil {
		m.mu.Lock()
		m.held = append(m.held, port)
		m.mu.Unlock()
	}
	return port, err
}

func (m *Mailpit) releasePorts() {
	m.mu.Lock()
	defer m.mu.Unlock()
	releasePorts(m.held...)
	m.held = nil
}

// SMTPHost and SMTPPort are where to send mail.
func (m *Mailpit) SMTPHost() string { return "127.0.0.1" }
func (m *Mailpit) SMTPPort() int    { return m.smtpPort }
func (m *Mailpit) SMTPAddr() string { return fmt.Sprintf("127.0.0.1:%d", m.smtpPort) }

func (m *Mailpit) api(path string) string {
	return fmt.Sprintf("http://127.0.0.1:%d%s", m.httpPort, path)
}

// Refuse makes the SMTP server answer RCPT TO with the given code (such as 451 or
// 550) every time, as a server that refuses the recipient; code 0 accepts again.
func (m *Mailpit) Refuse(tb testing.TB, code int) {
	tb.Helper()
	prob := 100
	if code == 0 {
		code, prob = 451, 0
	}
	body := fmt.Sprintf(`{"Recipient":{"ErrorCode":%d,"Probability":%d}}`, code, prob)
	req, _ := http.NewRequest(http.MethodPut, m.api("/api/v1/chaos"), strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("testenv: mailpit chaos: %s", resp.Status)
	}
}

// Messages returns every message Mailpit holds for address (all when ""), oldest
// first, parsed from the raw bytes it received.
func (m *Mailpit) Messages(tb testing.TB, address string) []*mail.Message {
	tb.Helper()
	q := url.Values{"query": {"to:" + address}}
	path := "/api/v1/search?" + q.Encode()
	if address == "" {
		path = "/api/v1/messages"
	}
	var list struct {
		Messages []struct{ ID string } `json:"messages"`
	}
	if err := json.Unmarshal(m.get(tb, path), &list); err != nil {
		tb.Fatal(err)
	}
	out := make([]*mail.Message, 0, len(list.Messages))
	for i := len(list.Messages) - 1; i >= 0; i-- { // the API lists newest first
		msg, err := mail.ReadMessage(bytes.NewReader(m.get(tb, "/api/v1/message/"+list.Messages[i].ID+"/raw")))
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, msg)
	}
	return out
}

// WaitMessages waits until at least n messages for address arrived.
func (m *Mailpit) WaitMessages(tb testing.TB, address string, n int, timeout time.Duration) []*mail.Message {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		msgs := m.Messages(tb, address)
		if len(msgs) >= n {
			return msgs
		}
		if time.Now().After(deadline) {
			tb.Fatalf("testenv: mailpit has %d messages for %q, want %d within %v", len(msgs), address, n, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (m *Mailpit) get(tb testing.TB, path string) []byte {
	tb.Helper()
	resp, err := http.Get(m.api(path))
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		tb.Fatalf("testenv: mailpit GET %s: %s %v", path, resp.Status, err)
	}
	return data
}
