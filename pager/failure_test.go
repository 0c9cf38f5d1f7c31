package pager_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"switchboard/bot"
	"switchboard/pager"
)

// ntfy answering 500 twice is tried again, after a wait that doubles, and the third
// try gets through: nobody is told of a failure.
func TestNtfyRetriedAfterTwo500s(t *testing.T) {
	r := newRig(t)
	r.ntfy.FailNext(2, http.StatusInternalServerError)
	p := r.pager(func(c *pager.Config) { c.RetryBackoff = 150 * time.Millisecond })
	r.send(p, r.page(1))
	reqs := r.ntfy.Requests()
	if len(reqs) != 3 || reqs[0].Status != 500 || reqs[1].Status != 500 || reqs[2].Status != 200 {
		t.Fatalf("ntfy got %d requests: %+v", len(reqs), reqs)
	}
	if gap := reqs[1].At.Sub(reqs[0].At); gap < 150*time.Millisecond {
		t.Errorf("first retry after %v, want the 150ms backoff", gap)
	}
	if gap := reqs[2].At.Sub(reqs[1].At); gap < 300*time.Millisecond {
		t.Errorf("second retry after %v, want the doubled 300ms", gap)
	}
	if f := r.failures(); len(f) != 0 {
		t.Errorf("a page that got through was reported as failed: %q", f)
	}
	if len(r.hook.Requests()) != 1 {
		t.Error("the webhook was paged more than once")
	}
}

// sendAsync starts Send and returns when it ends (its error) and when it started.
func (r *rig) sendAsync(ctx context.Context, p *pager.Pager, o bot.Outgoing) (<-chan error, time.Time) {
	done := make(chan error, 1)
	t0 := time.Now()
	go func() { done <- p.Send(ctx, o) }()
	return done, t0
}

// holdRetries makes p wait between attempts until release is called, and records
// the waits it was asked for.
func holdRetries(p *pager.Pager) (release func(), waits func() []time.Duration) {
	var mu sync.Mutex
	var asked []time.Duration
	gate := make(chan struct{})
	pager.SetSleep(p, func(ctx context.Context, d time.Duration) error {
		mu.Lock()
		asked = append(asked, d)
		mu.Unlock()
		select {
		case <-gate:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	var once sync.Once
	return func() { once.Do(func() { close(gate) }) }, func() []time.Duration {
		mu.Lock()
		defer mu.Unlock()
		return append([]time.Duration(nil), asked...)
	}
}

// othersArrive checks that ntfy and e-mail arrive while the failing channel is
// held before its retry: were they waiting for it, they would never come.
func (r *rig) othersArrive(done <-chan error) {
	r.t.Helper()
	r.ntfy.WaitFor(r.t, 1, 15*time.Second)
	r.mail.WaitMessages(r.t, "alice@oncall.test", 1, 15*time.Second)
	select {
	case err := <-done:
		r.t.Fatalf("Send returned (%v) before the failing channel was done with", err)
	default:
	}
}

// result waits for Send to end.
func (r *rig) result(done <-chan error) error {
	r.t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(60 * time.Second):
		r.t.Fatal("Send did not return")
		return nil
	}
}

// A webhook failing for good is retried, then reported to the staff room (and the
// audit log), while ntfy and e-mail arrive at once without waiting for it.
func TestWebhookFailingIsReportedOthersArrive(t *testing.T) {
	r := newRig(t)
	r.hook.FailAlways(http.StatusInternalServerError)
	p := r.pager(func(c *pager.Config) { c.RetryBackoff = 300 * time.Millisecond })
	release, waits := holdRetries(p)
	defer release()
	done, _ := r.sendAsync(t.Context(), p, r.page(1))
	r.hook.WaitFor(t, 1, 15*time.Second)
	r.othersArrive(done)
	release()
	if err := r.result(done); err != nil {
		t.Fatalf("Send: %v; want nil, so the outbox does not page the working channels again", err)
	}
	if n := len(r.hook.Requests()); n != 4 {
		t.Errorf("webhook tried %d times, want 4", n)
	}
	if w := waits(); len(w) != 3 || w[0] != 300*time.Millisecond || w[1] != 600*time.Millisecond || w[2] != 1200*time.Millisecond {
		t.Errorf("waits between attempts %v, want 300ms doubling", w)
	}
	r.expectFailure("webhook", "HTTP 500 (4 attempts)")
	if len(r.ntfy.Requests()) != 1 || len(r.mail.Messages(t, "alice@oncall.test")) != 1 {
		t.Error("the working channels were paged more than once")
	}
}

// A refusal that retrying cannot fix (a wrong key: 4xx) is reported at once.
func TestWebhookRefusalIsNotRetried(t *testing.T) {
	r := newRig(t)
	r.hook.FailAlways(http.StatusForbidden)
	r.send(r.pager(nil), r.page(1))
	if n := len(r.hook.Requests()); n != 1 {
		t.Errorf("webhook tried %d times, want 1", n)
	}
	r.expectFailure("webhook", "HTTP 403, not retried")
}

// An SMTP server that refuses the mail, or is not there at all, is reported; the
// other channels are paged all the same.
func TestSMTPRefusedIsReported(t *testing.T) {
	for _, tc := range []struct {
		name   string
		break_ func(r *rig)
		reason string
	}{
		{"rejects recipient 550", func(r *rig) { r.mail.Refuse(r.t, 550) }, "SMTP 550, not retried"},
		{"rejects recipient 451", func(r *rig) { r.mail.Refuse(r.t, 451) }, "SMTP 451 (3 attempts)"},
		{"server down", func(r *rig) { r.mail.Down() }, "connection refused (3 attempts)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			tc.break_(r)
			r.send(r.pager(func(c *pager.Config) { c.Attempts = 3 }), r.page(1))
			r.expectFailure("email", tc.reason)
			if len(r.ntfy.Succeeded()) != 1 || len(r.hook.Succeeded()) != 1 {
				t.Error("ntfy and the webhook were not paged")
			}
		})
	}
}

// A backend that accepts the connection and never answers holds up only itself: the
// others arrive while it is still being tried, and it is reported as timed out.
func TestHangingBackendDoesNotDelayOthers(t *testing.T) {
	r := newRig(t)
	r.hook.Hang(true)
	const timeout = 1500 * time.Millisecond
	p := r.pager(func(c *pager.Config) {
		c.Timeout, c.Attempts, c.RetryBackoff = timeout, 2, 100*time.Millisecond
	})
	release, waits := holdRetries(p)
	defer release()
	done, t0 := r.sendAsync(t.Context(), p, r.page(1))
	r.othersArrive(done)
	release()
	if err := r.result(done); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(t0); took < 2*timeout {
		t.Errorf("Send took %v; the hanging webhook should have had two full timeouts", took)
	}
	if n, w := len(r.hook.Requests()), waits(); n != 2 || len(w) != 1 {
		t.Errorf("webhook tried %d times after %d waits, want 2 after 1", n, len(w))
	}
	r.expectFailure("webhook", "timed out (2 attempts)")
}

// When the bot stops mid-page, Send says the platform was unavailable (the outbox
// keeps the row for the next start) and reports nothing as failed.
func TestStopMidPageKeepsThePage(t *testing.T) {
	r := newRig(t)
	r.hook.Hang(true)
	p := r.pager(nil)
	ctx, cancel := context.WithCancel(t.Context())
	done, _ := r.sendAsync(ctx, p, r.page(1))
	r.ntfy.WaitFor(t, 1, 15*time.Second)
	r.hook.WaitFor(t, 1, 15*time.Second)
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, bot.ErrUnavailable) {
			t.Errorf("Send = %v, want bot.ErrUnavailable", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Send did not return when its context ended")
	}
	if f := r.failures(); len(f) != 0 {
		t.Errorf("a stop was reported as a failure: %q", f)
	}
}
