package pager_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"switchboard/bot"
	"switchboard/config"
)

// The whole way: a staff-route case makes the core page the on-call person; the
// outbox hands the row to the pager, which pages every channel and reports the one
// that fails; the row is gone afterwards, so nothing is paged twice.
func TestCorePagesThroughTheOutbox(t *testing.T) {
	r := newRig(t)
	r.hook.FailAlways(http.StatusNotFound)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	outbox := bot.NewOutbox(r.st, zerolog.Nop())
	cfg := config.CoreDefaults()
	cfg.StaffConversation, cfg.Staff, cfg.OnCall, cfg.Pager = staffRoom, []string{alice}, []string{alice}, true
	r.svc = bot.NewService(r.st, r.cat, cfg, outbox, zerolog.Nop(), nil)
	outbox.Register(bot.Pager, r.pager(nil))
	done := make(chan struct{})
	go func() { outbox.Run(ctx, 100*time.Millisecond); close(done) }()
	defer func() { cancel(); <-done }()

	for i, text := range []string{"hello", "yes"} {
		in := bot.Inbound{Platform: bot.Matrix, EventID: "$core" + string(rune('a'+i)), Sender: "@second:localhost",
			Conversation: "!dm2:localhost", Text: text}
		if err := r.svc.Handle(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	var ref string
	if err := r.st.DB.Get(&ref, `SELECT c.ref FROM cases c JOIN people p ON p.id = c.person_id
		WHERE p.external_id = '@second:localhost'`); err != nil {
		t.Fatal(err)
	}
	n := r.ntfy.WaitFor(t, 1, 10*time.Second)
	if !strings.Contains(string(n[0].Body), "!ack "+ref) {
		t.Errorf("ntfy page %q is not about %s", n[0].Body, ref)
	}
	r.mail.WaitMessages(t, "alice@oncall.test", 1, 10*time.Second)
	deadline := time.Now().Add(10 * time.Second)
	for {
		rows, err := r.st.PendingOutbox(ctx, bot.Pager, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		f := r.failures()
		if len(rows) == 0 && len(f) == 1 {
			if !strings.Contains(f[0], ref) || !strings.Contains(f[0], "through webhook failed: HTTP 404, not retried") {
				t.Errorf("staff-room notice %q", f[0])
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 10s: %d page rows left, staff-room notices %q", len(rows), f)
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // a few outbox polls: the page must not go out again
	if len(r.ntfy.Requests()) != 1 || len(r.hook.Requests()) != 1 {
		t.Errorf("paged again: ntfy %d, webhook %d requests", len(r.ntfy.Requests()), len(r.hook.Requests()))
	}
}
