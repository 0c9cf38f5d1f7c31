package testenv

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

var nonName = regexp.MustCompile(`[^a-z0-9]+`)

// slug turns a test name into something safe in database names and Matrix
// localparts, so that leftovers can be traced back to the test that made them.
func slug(s string, max int) string {
	s = strings.Trim(nonName.ReplaceAllString(strings.ToLower(s), "_"), "_")
	if len(s) > max {
		s = s[:max]
	}
	if s == "" {
		s = "t"
	}
	return s
}

// tailFile returns the last lines of a server log for error messages.
func tailFile(path string, lines int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	data = bytes.TrimRight(data, "\n")
	parts := bytes.Split(data, []byte("\n"))
	if len(parts) > lines {
		parts = parts[len(parts)-lines:]
	}
	return string(bytes.Join(parts, []byte("\n")))
}

// RepoRoot finds the module root by walking up from the working directory
// (go test runs each package in its own directory) to the go.mod that
// declares module switchboard.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && slices.Contains(strings.Split(string(data), "\n"), "module switchboard") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("testenv: no go.mod of module switchboard above the working directory")
		}
		dir = parent
	}
}

// logBuffer keeps a client's log in memory so it is printed only for failed
// tests; writing through testing.T would panic once the test has returned.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.buf.Len() > 4<<20 {
		l.buf.Reset()
	}
	return l.buf.Write(p)
}

// tail returns about the last n bytes of the log, with long lines (key
// uploads, sync bodies) cut so that the failure output stays readable.
func (l *logBuffer) tail(n int) string {
	l.mu.Lock()
	lines := strings.Split(strings.TrimRight(l.buf.String(), "\n"), "\n")
	l.mu.Unlock()
	var out []string
	for i := len(lines) - 1; i >= 0 && n > 0; i-- {
		line := lines[i]
		if len(line) > 300 {
			line = line[:300] + "…"
		}
		out = append(out, line)
		n -= len(line)
	}
	slices.Reverse(out)
	return strings.Join(out, "\n")
}

// ownerFile records which process made a server's temp dir, so that dirs
// left by a test binary that panicked or timed out (its servers died with it,
// see startChild) can be removed by the next run.
const ownerFile = "testenv-owner.pid"

// makeTempDir creates a temp dir for a server after sweeping stale ones.
func makeTempDir(base, prefix string) (string, error) {
	if base == "" {
		base = os.TempDir()
	}
	sweepStale(base, prefix)
	dir, err := os.MkdirTemp(base, prefix)
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		_ = os.RemoveAll(dir)
		return "", err
	}
	return dir, nil
}

func sweepStale(base, prefix string) {
	dirs, _ := filepath.Glob(filepath.Join(base, prefix+"*"))
	for _, dir := range dirs {
		data, err := os.ReadFile(filepath.Join(dir, ownerFile))
		if err != nil {
			continue // not ours, or still being set up
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
		if err != nil || pid == os.Getpid() {
			continue
		}
		// Signal 0 only asks whether the owner still exists; a recycled pid
		// merely postpones the sweep.
		if syscall.Kill(pid, 0) == syscall.ESRCH {
			_ = os.RemoveAll(dir)
		}
	}
}
