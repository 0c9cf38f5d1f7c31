package pager_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"switchboard/bot"
	"switchboard/config"
	"switchboard/i18n"
	"switchboard/internal/testenv"
	"switchboard/pager"
	"switchboard/store"
)

func TestMain(m *testing.M) { testenv.Main(m, testenv.NeedPostgres) }

const (
	staffRoom = "!staff:localhost"
	alice     = "@alice-oncall:localhost"
	requester = "@requester-private:localhost"
	// What the requester tells the bot: none of it may ever appear in a page.
	secretStory = "My neighbour Jane Secretname follows me to the library"
	secretParty = "Harasser_Wikiname"
)

// rig is the pager against real servers: the core over PostgreSQL (for PagerFailed
// and the staff-room notice), recorders for ntfy and the webhook, Mailpit for SMTP,
// and a staff-route case whose requester told a story the pages must not show.
type rig struct {
	t    *testing.T
	st   *store.Store
	svc  *bot.Service
	cat  *i18n.Catalogue
	ntfy *testenv.Recorder
	hook *testenv.Recorder
	mail *testenv.Mailpit
	ref  string
	seq  atomic.Int64
	logs logBuffer
}

// logBuffer collects the pager's log, which is checked for secrets.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func newRig(t *testing.T) *rig {
	t.Helper()
	t.Parallel()
	r := &rig{t: t, ntfy: testenv.NewRecorder(t), hook: testenv.NewRecorder(t)}
	r.mail = testenv.NewMailpit(t, testenv.MailpitOptions{})
	var err error
	if r.cat, err = i18n.Load(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	r.st, err = store.Open(ctx, testenv.NewDB(t), store.Options{}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.st.Close() })
	cfg := config.CoreDefaults()
	cfg.StaffConversation, cfg.Staff = staffRoom, []string{alice}
	r.svc = bot.NewService(r.st, r.cat, cfg, nil, zerolog.Nop(), nil)
	r.ref = r.staffCase()
	// Logs carry IDs and reasons only: never a token, a password or a topic or
	// webhook URL (whoever has those can read or send pages).
	t.Cleanup(func() {
		log := r.logs.String()
		for _, secret := range []string{"tk_secret_token", "smtp-secret", "sb-k2f9x7q4", "R0UTINGKEY", r.ntfy.URL(), r.hook.URL(), secretStory, secretParty} {
			if strings.Contains(log, secret) {
				t.Errorf("the pager's log shows %q", secret)
			}
		}
	})
	return r
}

// staffCase walks a requester through an intake with a "yes" on the safety list and
// a story naming people, and returns the staff-route case's reference.
func (r *rig) staffCase() string {
	r.t.Helper()
	for _, text := range []string{"hello", "yes", "no", "no", "no", secretStory, secretParty, "en.wikipedia.org", "en", "yes"} {
		in := bot.Inbound{Platform: bot.Matrix, EventID: fmt.Sprintf("$e%d", r.seq.Add(1)), Sender: requester,
			Conversation: "!dm:localhost", Text: text}
		if err := r.svc.Handle(context.Background(), in); err != nil {
			r.t.Fatalf("Handle(%q): %v", text, err)
		}
	}
	var ref string
	if err := r.st.DB.Get(&ref, `SELECT ref FROM cases WHERE route = 'staff' AND description = $1`, secretStory); err != nil {
		r.t.Fatalf("no staff-route case holding the story: %v", err)
	}
	return ref
}

// contact is alice on all three channels of the rig.
func (r *rig) contact() pager.Contact {
	return pager.Contact{
		Ntfy: r.ntfy.URL() + "/sb-k2f9x7q4", NtfyToken: "tk_secret_token",
		Webhook: r.hook.URL() + "/v2/enqueue", WebhookRoutingKey: "R0UTINGKEY",
		Email: "Alice <alice@oncall.test>",
	}
}

// pager makes a pager for alice with fast retries; change adjusts the config.
func (r *rig) pager(change func(*pager.Config)) *pager.Pager {
	r.t.Helper()
	cfg := pager.Config{
		Contacts: map[string]pager.Contact{alice: r.contact()},
		SMTP: pager.SMTP{Host: r.mail.SMTPHost(), Port: r.mail.SMTPPort(), Username: "switchboard", Password: "smtp-secret",
			From: "Switchboard <switchboard@desk.test>"},
		Attempts: 4, RetryBackoff: 50 * time.Millisecond, Timeout: 5 * time.Second,
	}
	if change != nil {
		change(&cfg)
	}
	p, err := pager.New(cfg, r.svc, r.cat, zerolog.New(io.MultiWriter(&r.logs, zerolog.NewTestWriter(r.t))))
	if err != nil {
		r.t.Fatal(err)
	}
	return p
}

// page is the outbox row the core writes to page alice.
func (r *rig) page(round int) bot.Outgoing {
	return bot.Outgoing{ID: r.seq.Add(1), Platform: bot.Pager, Conversation: alice, Action: bot.ActionPage,
		Payload: bot.ActionPayload{Ref: r.ref, Round: round}}
}

// send pages and returns how long Send took.
func (r *rig) send(p *pager.Pager, o bot.Outgoing) time.Duration {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	t0 := time.Now()
	if err := p.Send(ctx, o); err != nil {
		r.t.Fatalf("Send: %v", err)
	}
	return time.Since(t0)
}

// failures returns the staff room's notices about failed pages.
func (r *rig) failures() []string {
	r.t.Helper()
	msgs, err := r.st.PendingOutbox(context.Background(), bot.Matrix, 0, 1000)
	if err != nil {
		r.t.Fatal(err)
	}
	var out []string
	for _, m := range msgs {
		if m.Conversation == staffRoom && strings.Contains(m.Plain, " failed: ") {
			out = append(out, m.Plain)
		}
	}
	return out
}

// failedEvents counts the case's page_failed audit rows for a channel.
func (r *rig) failedEvents(channel string) int {
	r.t.Helper()
	var n int
	if err := r.st.DB.Get(&n, `SELECT count(*) FROM case_events e JOIN cases c ON c.id = e.case_id
		WHERE c.ref = $1 AND e.kind = 'page_failed' AND e.detail->>'channel' = $2`, r.ref, channel); err != nil {
		r.t.Fatal(err)
	}
	return n
}

// expectFailure checks there is exactly one staff-room notice, about channel, with
// the reason.
func (r *rig) expectFailure(channel, reason string) {
	r.t.Helper()
	f := r.failures()
	if len(f) != 1 || !strings.Contains(f[0], r.ref) || !strings.Contains(f[0], alice) ||
		!strings.Contains(f[0], "through "+channel+" failed: "+reason) {
		r.t.Fatalf("staff-room notices %q, want one about %s: %s", f, channel, reason)
	}
	if n := r.failedEvents(channel); n != 1 {
		r.t.Errorf("%d page_failed events for %s, want 1", n, channel)
	}
}
