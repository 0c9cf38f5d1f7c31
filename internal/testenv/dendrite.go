package testenv

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"
	"maunium.net/go/mautrix/synapseadmin"
)

var dendriteTools = []string{"dendrite", "generate-config", "generate-keys", "create-account"}

// Dendrite is a Matrix homeserver for tests: HTTP on a loopback port,
// federation off, SQLite in a temp dir, registration only through the shared
// secret so that tests create users without prompts.
type Dendrite struct {
	bin    string
	dir    string
	port   int
	secret string

	mu      sync.Mutex
	held    int // the reserved port, released by Stop
	proc    *child
	barrier barrier
}

var userCounter atomic.Int64

// DendriteBinDir returns the directory with the pinned Dendrite binaries:
// $SWITCHBOARD_DENDRITE_BIN, or <repo>/.cache/bin, built by
// scripts/dendrite.sh when missing or older than tools/dendrite/go.sum.
func DendriteBinDir() (string, error) {
	if dir := os.Getenv("SWITCHBOARD_DENDRITE_BIN"); dir != "" {
		return dir, nil
	}
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(root, ".cache", "bin")
	sum := filepath.Join(root, "tools", "dendrite", "go.sum")
	if dendriteFresh(bin, sum) {
		return bin, nil
	}
	if err := os.MkdirAll(filepath.Join(root, ".cache"), 0o755); err != nil {
		return "", err
	}
	// go test runs packages in parallel: only one of them should spend the
	// minutes a Dendrite build takes, the others wait and then find it built.
	lock, err := os.OpenFile(filepath.Join(root, ".cache", "testenv-dendrite.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", err
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	if dendriteFresh(bin, sum) {
		return bin, nil
	}
	cmd := exec.Command("bash", filepath.Join(root, "scripts", "dendrite.sh"))
	cmd.Dir = root
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("testenv: scripts/dendrite.sh: %w\n%s", err, stderr.String())
	}
	return strings.TrimSpace(string(out)), nil
}

func dendriteFresh(bin, sum string) bool {
	sumInfo, err := os.Stat(sum)
	if err != nil {
		return false
	}
	for _, t := range dendriteTools {
		st, err := os.Stat(filepath.Join(bin, t))
		if err != nil || st.ModTime().Before(sumInfo.ModTime()) {
			return false
		}
	}
	return true
}

// StartDendrite generates keys and a config in a temp dir and starts the
// homeserver on a free loopback port.
func StartDendrite() (*Dendrite, error) {
	bin, err := DendriteBinDir()
	if err != nil {
		return nil, err
	}
	dir, err := makeTempDir("", "switchboard-dendrite-")
	if err != nil {
		return nil, err
	}
	d := &Dendrite{bin: bin, dir: dir, secret: randomHex(16)}
	if err := d.configure(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	// A foreign program may still bind the reserved port just before Dendrite
	// does (see reservePort), so a failed start gets a few fresh ports.
	for attempt := 0; ; attempt++ {
		if d.port, err = reservePort(); err == nil {
			d.mu.Lock()
			d.held = d.port
			d.mu.Unlock()
			if err = d.Up(); err == nil {
				return d, nil
			}
			d.releasePort()
		}
		if attempt == 2 || !strings.Contains(err.Error(), "address already in use") {
			_ = os.RemoveAll(dir)
			return nil, err
		}
	}
}

func (d *Dendrite) releasePort() {
	d.mu.Lock()
	defer d.mu.Unlock()
	releasePorts(d.held)
	d.held = 0
}

func (d *Dendrite) configPath() string { return filepath.Join(d.dir, "dendrite.yaml") }
func (d *Dendrite) logPath() string    { return filepath.Join(d.dir, "dendrite.log") }

func (d *Dendrite) configure() error {
	key := filepath.Join(d.dir, "matrix_key.pem")
	if out, err := exec.Command(filepath.Join(d.bin, "generate-keys"), "--private-key", key).CombinedOutput(); err != nil {
		return fmt.Errorf("testenv: generate-keys: %w\n%s", err, out)
	}
	gen := exec.Command(filepath.Join(d.bin, "generate-config"), "-ci", "-server", "localhost", "-dir", d.dir)
	out, err := gen.Output()
	if err != nil {
		return fmt.Errorf("testenv: generate-config: %w", err)
	}
	var cfg map[string]any
	if err := yaml.Unmarshal(out, &cfg); err != nil {
		return fmt.Errorf("testenv: parse generated dendrite config: %w", err)
	}
	// -ci already disables rate limiting and uses bcrypt cost 4. Its
	// in-memory JetStream stays: with a persistent one, Dendrite v0.13.8
	// replays queued events on restart before its roomserver is wired up and
	// crashes (nil Queryer in federationapi's consumer), about one restart in 15.
	for path, v := range map[string]any{
		"global.private_key":                    key,
		"global.disable_federation":             true,
		"client_api.registration_disabled":      true,
		"client_api.registration_shared_secret": d.secret,
		"mscs.mscs":                             []string{},
	} {
		if err := setPath(cfg, path, v); err != nil {
			return err
		}
	}
	cfg["logging"] = []any{map[string]any{"type": "std", "level": "warn"}}
	data, err := yaml.Marshal(cfg)
	if err != nil {
		return err
	}
	return os.WriteFile(d.configPath(), data, 0o600)
}

// setPath sets a dotted key in generated YAML and fails when the path is
// missing, so a Dendrite upgrade that renames an option is noticed.
func setPath(cfg map[string]any, path string, v any) error {
	keys := strings.Split(path, ".")
	m := cfg
	for _, k := range keys[:len(keys)-1] {
		next, ok := m[k].(map[string]any)
		if !ok {
			return fmt.Errorf("testenv: dendrite config has no %q", path)
		}
		m = next
	}
	if _, ok := m[keys[len(keys)-1]]; !ok {
		return fmt.Errorf("testenv: dendrite config has no %q", path)
	}
	m[keys[len(keys)-1]] = v
	return nil
}

// Up starts the homeserver on its port and data dir and waits until the
// client API answers.
func (d *Dendrite) Up() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.proc != nil {
		select {
		case <-d.proc.exited:
		default:
			return nil
		}
	}
	logf, err := os.OpenFile(d.logPath(), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(filepath.Join(d.bin, "dendrite"), "-config", d.configPath(),
		"-http-bind-address", fmt.Sprintf("127.0.0.1:%d", d.port))
	cmd.Dir = d.dir
	cmd.Stdout, cmd.Stderr = logf, logf
	proc, err := startWatched(cmd, syscall.SIGKILL)
	if err != nil {
		return fmt.Errorf("testenv: start dendrite: %w", err)
	}
	d.proc = proc
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := client.Get(d.URL() + "/_matrix/client/versions")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = errors.New(resp.Status)
		}
		if time.Now().After(deadline) {
			proc.stop(syscall.SIGKILL, time.Second)
			return fmt.Errorf("testenv: dendrite not ready after 60s: %v\n%s", err, tailFile(d.logPath(), 40))
		}
		select {
		case <-proc.exited:
			return fmt.Errorf("testenv: dendrite exited during startup (%v)\n%s", proc.err, tailFile(d.logPath(), 40))
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Down stops the homeserver (SIGTERM, then SIGKILL after 10 s) and keeps its
// data for Up. It first lets Dendrite finish delivering what it has accepted
// (see settle), so a restart loses no message a client was told was sent.
func (d *Dendrite) Down() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.proc == nil {
		return nil
	}
	select {
	case <-d.proc.exited:
		return nil
	default:
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	err := d.settle(ctx)
	cancel()
	d.proc.stop(syscall.SIGTERM, 10*time.Second)
	if err != nil {
		return fmt.Errorf("testenv: dendrite stopped, but may have lost in-flight events: %w", err)
	}
	return nil
}

// Restart stops and starts the homeserver on the same data dir and port, as
// an operator's restart would: clients keep their URL and access tokens.
func (d *Dendrite) Restart() error {
	if err := d.Down(); err != nil {
		return err
	}
	return d.Up()
}

// Stop shuts the homeserver down and deletes its data. Safe to call twice.
func (d *Dendrite) Stop() {
	d.mu.Lock()
	if d.proc != nil {
		d.proc.stop(syscall.SIGTERM, 10*time.Second)
	}
	d.mu.Unlock()
	d.releasePort()
	_ = os.RemoveAll(d.dir)
}

// URL is the client-server API base URL.
func (d *Dendrite) URL() string { return fmt.Sprintf("http://127.0.0.1:%d", d.port) }

// ServerName is the homeserver's name, the part after the colon in user IDs.
func (d *Dendrite) ServerName() string { return "localhost" }

// SharedSecret is the registration shared secret, for tests that register
// users by other means (e.g. the create-account tool).
func (d *Dendrite) SharedSecret() string { return d.secret }

// LogTail returns the last lines of the homeserver's log, for failure messages.
func (d *Dendrite) LogTail(lines int) string { return tailFile(d.logPath(), lines) }

// Register creates a user through the Synapse-compatible shared-secret admin
// API, which Dendrite implements. It creates no device: clients log in.
func (d *Dendrite) Register(ctx context.Context, localpart, password string) (id.UserID, error) {
	cli, err := mautrix.NewClient(d.URL(), "", "")
	if err != nil {
		return "", err
	}
	admin := synapseadmin.Client{Client: cli}
	resp, err := admin.SharedSecretRegister(ctx, d.secret, synapseadmin.ReqSharedSecretRegister{
		Username:     localpart,
		Password:     password,
		InhibitLogin: true,
	})
	if err != nil {
		return "", fmt.Errorf("testenv: register %s: %w", localpart, err)
	}
	if resp.UserID != "" {
		return resp.UserID, nil
	}
	return id.NewUserID(localpart, d.ServerName()), nil
}

// NewUser registers a user whose localpart starts with prefix and is unique
// across tests, processes and homeserver restarts; it returns the user ID and
// a random password.
func (d *Dendrite) NewUser(tb testing.TB, prefix string) (id.UserID, string) {
	tb.Helper()
	localpart := fmt.Sprintf("%s-%d-%s", slug(prefix, 20), userCounter.Add(1), randomHex(3))
	password := randomHex(12)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	userID, err := d.Register(ctx, localpart, password)
	if err != nil {
		tb.Fatalf("%v\n%s", err, d.LogTail(20))
	}
	return userID, password
}
