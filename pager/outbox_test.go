package pager_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"switchboard/bot"
)

// The whole way: a staff-route case makes the core page the on-call person; the
// outbox hands the row to the pager, which pages every channel and reports the one
// that fails; the row is gone afterwards, so nothing is paged twice. The requester
// goes on to tell her story, and the next round's page, written with the story
// known, shows none of it.
func TestCorePagesThroughTheOutbox(t *testing.T) {
	r := newRig(t)
	r.hook.FailAlways(http.StatusNotFound)
	ctx, cancel := context.WithCancel(t.Context())
	outbox := bot.NewOutbox(r.st, zerolog.Nop())
	svc := r.core(outbox)
	r.svc = svc // the pager's reporter
	outbox.Register(bot.Pager, recordRows{r, r.pager(nil)})
	done := make(chan struct{})
	go func() { outbox.Run(ctx, 100*time.Millisecond); close(done) }()
	defer func() {
		cancel()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			t.Error("the outbox did not stop")
		}
	}()

	const second, dm = "@second-private:localhost", "!dm2:localhost"
	r.tell(svc, second, dm, "hello", "yes")
	var ref string
	if err := r.st.DB.Get(&ref, `SELECT c.ref FROM cases c JOIN people p ON p.id = c.person_id
		WHERE p.external_id = $1`, second); err != nil {
		t.Fatal(err)
	}
	n := r.ntfy.WaitFor(t, 1, 15*time.Second)
	if !strings.Contains(string(n[0].Body), "!ack "+ref) {
		t.Errorf("ntfy page %q is not about %s", n[0].Body, ref)
	}
	r.mail.WaitMessages(t, "alice@oncall.test", 1, 15*time.Second)
	r.waitSettled(ref, 1)

	// Round 2 is written to the database only (this core has no outbox to push it
	// to), so the outbox finds it at its next poll, after anything of round 1 it
	// still had; once round 2 is in, a second page of round 1 would be too.
	r.tell(r.core(nil), second, dm, story...)
	r.clock.Add((6 * time.Minute).Milliseconds())
	if fired, err := r.core(nil).FireDueTimers(ctx); err != nil || fired == 0 {
		t.Fatalf("no second round: %d timers fired, %v", fired, err)
	}
	h := r.hook.WaitFor(t, 2, 15*time.Second)
	r.waitSettled(ref, 2)
	var rounds []float64
	for _, q := range h {
		var ev struct {
			Payload struct {
				CustomDetails map[string]any `json:"custom_details"`
			} `json:"payload"`
		}
		if err := json.Unmarshal(q.Body, &ev); err != nil {
			t.Fatal(err)
		}
		round, ok := ev.Payload.CustomDetails["round"].(float64)
		if !ok {
			t.Fatalf("a webhook page without its round: %s", q.Body)
		}
		rounds = append(rounds, round)
	}
	if len(rounds) != 2 || rounds[0] != 1 || rounds[1] != 2 || len(r.ntfy.Requests()) != 2 {
		t.Errorf("webhook pages for rounds %v, %d ntfy pages; want rounds 1 and 2, once each", rounds, len(r.ntfy.Requests()))
	}
	r.mail.WaitMessages(t, "alice@oncall.test", 2, 15*time.Second)
	r.givenMu.Lock()
	given := len(r.given)
	r.givenMu.Unlock()
	if given != 2 {
		t.Errorf("the pager was handed %d rows, want the two pages", given)
	}
	r.expectNoSecrets(second, "second-private")
}

// waitSettled waits until no page row is left and the staff room heard of the
// webhook failing want times, all about ref.
func (r *rig) waitSettled(ref string, want int) {
	r.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		rows, err := r.st.PendingOutbox(context.Background(), bot.Pager, 0, 10)
		if err != nil {
			r.t.Fatal(err)
		}
		f := r.failures()
		if len(rows) == 0 && len(f) >= want {
			if len(f) != want {
				r.t.Fatalf("staff-room notices %q, want %d", f, want)
			}
			for _, n := range f {
				if !strings.Contains(n, ref) || !strings.Contains(n, "through webhook failed: HTTP 404, not retried") {
					r.t.Errorf("staff-room notice %q", n)
				}
			}
			return
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("after 15s: %d page rows left, staff-room notices %q", len(rows), f)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
