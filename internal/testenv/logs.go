package testenv

import (
	"bytes"
	"strings"
	"sync"
)

// Logs is a log sink that any goroutine may write to while a test reads it: for tests
// that check what the code under test logs (an error's trail; that no secret is in it).
type Logs struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *Logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// String is everything written so far.
func (l *Logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// Lines are the lines written so far (JSON log lines, with zerolog).
func (l *Logs) Lines() []string {
	s := strings.TrimSpace(l.String())
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}
