package matrix_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"maunium.net/go/mautrix/event"

	"switchboard/internal/testenv"
)

// joinProxy stands between the bot and the homeserver and, while status is set,
// answers every join of the bot's with that status instead of forwarding it: a
// homeserver that is overloaded (502) or limits the bot's joins (429).
type joinProxy struct {
	status  atomic.Int32
	refused atomic.Int32 // joins answered with status
}

func (p *joinProxy) handler(target *url.URL) http.Handler {
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.FlushInterval = -1 // stream /sync long polls as they come
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st := int(p.status.Load())
		join := r.Method == http.MethodPost &&
			(strings.HasSuffix(r.URL.Path, "/join") || strings.Contains(r.URL.Path, "/client/v3/join/"))
		if st == 0 || !join {
			proxy.ServeHTTP(w, r)
			return
		}
		p.refused.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(st)
		if st == http.StatusTooManyRequests {
			fmt.Fprint(w, `{"errcode":"M_LIMIT_EXCEEDED","error":"Too many joins","retry_after_ms":1500}`)
		} else {
			fmt.Fprint(w, `{"errcode":"M_UNKNOWN","error":"Bad gateway"}`)
		}
	})
}

// waitRefused waits until the proxy has refused more than n joins.
func (p *joinProxy) waitRefused(t *testing.T, n int32, within time.Duration, why string) {
	t.Helper()
	deadline := time.Now().Add(within)
	for p.refused.Load() <= n {
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d joins refused after %s, want more than %d", why, p.refused.Load(), within, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A join the homeserver keeps failing (502, then 429) holds up nothing else: messages
// in other rooms are answered at once while the bot keeps trying, the invitation
// survives a restart, and the room is joined once the homeserver lets it.
func TestFailingJoinDoesNotHoldUpOtherRooms(t *testing.T) {
	t.Parallel()
	hs := testenv.Homeserver(t)
	target, err := url.Parse(hs.URL())
	if err != nil {
		t.Fatal(err)
	}
	p := &joinProxy{}
	srv := httptest.NewServer(p.handler(target))
	t.Cleanup(srv.Close) // after the bot has stopped (cleanups run last first)
	b := newBot(t, hs, testenv.NewDB(t))
	b.cfg.Homeserver.URL = srv.URL
	b.start()
	alice := newRequester(t, b, "alice")
	alice.answer("hello", "1 of 4")

	p.status.Store(http.StatusBadGateway)
	bob := testenv.NewMatrixUser(t, "bob")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	room, err := bob.CreateDM(ctx, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	// Four refusals: a backoff that grew with each (the sync's, before the fix) would
	// now hold every message for 8 s and more.
	p.waitRefused(t, 3, 60*time.Second, "the bot does not try to join")
	for i, want := range []string{"2 of 4", "3 of 4", "4 of 4"} {
		start := time.Now()
		alice.answer("no", want)
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("answer %d came after %s while a join elsewhere kept failing; want it at once", i+1, took.Round(time.Millisecond))
		}
	}
	var mem event.MemberEventContent
	if err := bob.Mautrix().StateEvent(ctx, room, event.StateMember, b.ID.String(), &mem); err != nil || mem.Membership != event.MembershipInvite {
		t.Fatalf("the bot's membership in the failing room is %q (%v); the joins were to fail throughout", mem.Membership, err)
	}

	// Restarted while the homeserver limits joins: the invitation, which the sync
	// position has moved past, is tried again at once.
	b.stop()
	p.status.Store(http.StatusTooManyRequests)
	before := p.refused.Load()
	b.start()
	p.waitRefused(t, before, 30*time.Second, "the invitation was forgotten across the restart")
	p.status.Store(0)
	if err := bob.WaitMembership(ctx, room, b.ID, event.MembershipJoin); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.Send(ctx, room, "hello"); err != nil {
		t.Fatal(err)
	}
	bob.Expect(t, room, "1 of 4")
}
