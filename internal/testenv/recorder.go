package testenv

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// Recorder is a loopback HTTP server that stores every request it gets: the stand-in
// for a phone push service (ntfy) or an incident tool's webhook (PagerDuty), which
// cannot run here. It answers 200, or fails on demand: FailNext answers an error
// status to the next n requests, Hang holds requests until the client gives up.
type Recorder struct {
	srv    *httptest.Server
	closed chan struct{}

	mu       sync.Mutex
	reqs     []Request
	failN    int
	status   int
	hang     bool
	received chan struct{} // closed and replaced at every request
}

// Request is one request a Recorder got, and what it answered (0 for a hung one).
type Request struct {
	Method string
	Path   string
	Header http.Header
	Body   []byte
	Status int
	At     time.Time
}

// NewRecorder starts a recorder on 127.0.0.1; it stops when the test ends.
func NewRecorder(tb testing.TB) *Recorder {
	tb.Helper()
	r := StartRecorder()
	tb.Cleanup(r.Close)
	return r
}

// StartRecorder is NewRecorder outside tests (the sandbox): the caller closes it.
func StartRecorder() *Recorder {
	r := &Recorder{closed: make(chan struct{}), received: make(chan struct{})}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	return r
}

// URL is the server's base URL; any path is accepted.
func (r *Recorder) URL() string { return r.srv.URL }

// Close stops the server, releasing hung requests first.
func (r *Recorder) Close() {
	r.mu.Lock()
	select {
	case <-r.closed:
		r.mu.Unlock()
		return
	default:
		close(r.closed)
	}
	r.mu.Unlock()
	r.srv.Close()
}

// FailNext makes the next n requests get the given HTTP status (such as 500).
func (r *Recorder) FailNext(n, status int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failN, r.status = n, status
}

// FailAlways makes every request from now on get the given HTTP status.
func (r *Recorder) FailAlways(status int) { r.FailNext(1<<30, status) }

// Hang makes requests from now on wait without an answer until the client gives up
// (or the recorder closes), as a server that accepted the connection and stalled.
func (r *Recorder) Hang(on bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.hang = on
}

func (r *Recorder) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	rec := Request{Method: req.Method, Path: req.URL.Path, Header: req.Header.Clone(), Body: body, At: time.Now()}
	r.mu.Lock()
	hang := r.hang
	switch {
	case hang:
	case r.failN > 0:
		r.failN--
		rec.Status = r.status
	default:
		rec.Status = http.StatusOK
	}
	r.reqs = append(r.reqs, rec)
	close(r.received)
	r.received = make(chan struct{})
	r.mu.Unlock()
	if hang {
		select {
		case <-req.Context().Done():
		case <-r.closed:
		}
		return
	}
	w.WriteHeader(rec.Status)
}

// Requests returns a copy of what was received so far, in order.
func (r *Recorder) Requests() []Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Request(nil), r.reqs...)
}

// Succeeded returns the requests that were answered 2xx.
func (r *Recorder) Succeeded() []Request {
	var ok []Request
	for _, q := range r.Requests() {
		if q.Status >= 200 && q.Status < 300 {
			ok = append(ok, q)
		}
	}
	return ok
}

// WaitFor waits until n requests in all were received and returns them, or fails
// the test after timeout.
func (r *Recorder) WaitFor(tb testing.TB, n int, timeout time.Duration) []Request {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	reqs, err := r.Wait(ctx, n)
	if err != nil {
		tb.Fatalf("testenv: %v within %v", err, timeout)
	}
	return reqs
}

// Wait waits until n requests in all were received and returns them, or gives up
// when ctx ends.
func (r *Recorder) Wait(ctx context.Context, n int) ([]Request, error) {
	for {
		r.mu.Lock()
		got, ch := len(r.reqs), r.received
		r.mu.Unlock()
		if got >= n {
			return r.Requests(), nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, fmt.Errorf("recorder got %d requests, want %d: %w", got, n, ctx.Err())
		}
	}
}
