package matrix_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"switchboard/bridges/matrix"
	"switchboard/internal/testenv"
)

// hangingProxy stands between the bot and the homeserver and, when armed, holds the
// bot's next message send without ever forwarding it: a homeserver that never answers,
// as Dendrite does when an event reaches a room just as its idle input worker stops.
type hangingProxy struct {
	mu    sync.Mutex
	armed bool
	held  []string // paths of the sends held
	sends []string // paths of every message send that went through
}

func (p *hangingProxy) handler(target *url.URL) http.Handler {
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.FlushInterval = -1 // stream /sync long polls as they come
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/send/m.room.encrypted/sb-") {
			p.mu.Lock()
			hold := p.armed
			p.armed = false
			if hold {
				p.held = append(p.held, r.URL.Path)
			} else {
				p.sends = append(p.sends, r.URL.Path)
			}
			p.mu.Unlock()
			if hold {
				// The server notices the bot hanging up only once the body is read.
				_, _ = io.Copy(io.Discard, r.Body)
				<-r.Context().Done() // the bot gives up on it; nothing reaches the homeserver
				return
			}
		}
		proxy.ServeHTTP(w, r)
	})
}

// A send the homeserver never answers is given up after the send timeout and made
// again with the same transaction ID; the person gets the answer, once.
// Not parallel: it shortens the package's send timeout.
func TestHangingSendIsRetried(t *testing.T) {
	t.Cleanup(matrix.SetSendTimeout(2 * time.Second)) // put back after the bot has stopped
	hs := testenv.Homeserver(t)
	target, err := url.Parse(hs.URL())
	if err != nil {
		t.Fatal(err)
	}
	p := &hangingProxy{}
	srv := httptest.NewServer(p.handler(target))
	t.Cleanup(srv.Close) // after the bot has stopped (cleanups run last first)
	b := newBot(t, hs, testenv.NewDB(t))
	b.cfg.Homeserver.URL = srv.URL
	b.start()
	alice := newRequester(t, b, "alice")
	alice.answer("hello", "1 of 4")

	p.mu.Lock()
	p.armed = true
	p.mu.Unlock()
	start := time.Now()
	alice.answer("no", "2 of 4")
	took := time.Since(start)

	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.held) != 1 {
		t.Fatalf("%d sends held, want 1", len(p.held))
	}
	last := p.sends[len(p.sends)-1]
	if last != p.held[0] {
		t.Errorf("the retry used %s, not the held send's transaction %s", last, p.held[0])
	}
	if took < 2*time.Second || took > 15*time.Second {
		t.Errorf("the answer came after %s; want the send timeout (2 s) plus a retry", took)
	}
	if n := len(alice.c.Messages(alice.room)); n != 4 { // hello, greeting, no, question 2
		t.Errorf("%d messages in the room, want 4 (the answer once)", n)
	}
}
