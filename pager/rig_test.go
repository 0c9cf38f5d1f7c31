package pager_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/mail"
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
// and a staff-route case whose requester told a story the pages must not show. The
// pages sent are the rows the core wrote for that case, as the outbox would hand
// them over: so whatever the core puts into a page row reaches the pager.
type rig struct {
	t     *testing.T
	st    *store.Store
	svc   *bot.Service
	cat   *i18n.Catalogue
	ntfy  *testenv.Recorder
	hook  *testenv.Recorder
	mail  *testenv.Mailpit
	ref   string
	pages map[int]bot.Outgoing // the core's page rows for alice, by round
	seq   atomic.Int64
	clock atomic.Int64 // the core's, in Unix milliseconds
	logs  logBuffer

	// given is every other row the pager was handed (through recordRows).
	givenMu sync.Mutex
	given   []bot.Outgoing
}

// logBuffer collects the pager's and the core's log, which is checked for secrets.
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
	r.st, err = store.Open(ctx, testenv.NewDB(t), store.Options{DataKey: testenv.DataKey}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.st.Close() })
	r.clock.Store(time.Now().UnixMilli())
	r.svc = r.core(nil)
	r.ref = r.staffCase()
	// Logs carry IDs and reasons only: never a token, a password or a topic or
	// webhook URL (whoever has those can read or send pages), nor what the requester
	// told. The core's log is checked with the pager's.
	t.Cleanup(func() {
		log := strings.ToLower(r.logs.String())
		for _, secret := range append([]string{"tk_secret_token", "smtp-secret", "sb-k2f9x7q4", "R0UTINGKEY", r.ntfy.URL(), r.hook.URL()}, told...) {
			if strings.Contains(log, strings.ToLower(secret)) {
				t.Errorf("the log shows %q", secret)
			}
		}
	})
	return r
}

// told is what the requester told, whole and in parts: no page and no log line may
// show any of it.
var told = []string{secretStory, "Jane Secretname", "Secretname", secretParty, "Harasser", "Wikiname"}

// core is the core paging alice, on the rig's clock and log; outbox may be nil (the
// rows then wait in the database).
func (r *rig) core(outbox *bot.Outbox) *bot.Service {
	cfg := config.CoreDefaults()
	cfg.StaffConversation, cfg.Staff, cfg.OnCall, cfg.Pager = staffRoom, []string{alice}, []string{alice}, true
	return bot.NewService(r.st, r.cat, cfg, outbox, zerolog.New(&r.logs), func() time.Time { return time.UnixMilli(r.clock.Load()) })
}

// tell has sender say each text in turn in conv, through svc.
func (r *rig) tell(svc *bot.Service, sender, conv string, texts ...string) {
	r.t.Helper()
	for _, text := range texts {
		in := bot.Inbound{Platform: bot.Matrix, EventID: fmt.Sprintf("$e%d", r.seq.Add(1)), Sender: sender,
			Conversation: conv, Text: text}
		if err := svc.Handle(context.Background(), in); err != nil {
			r.t.Fatalf("Handle(%q): %v", text, err)
		}
	}
}

// story is an intake after the first "yes": the rest of the safety list, a story
// naming people, the wiki and the language, confirmed.
var story = []string{"no", "no", "no", secretStory, secretParty, "en.wikipedia.org", "en", "yes"}

// staffCase walks a requester through an intake with a "yes" on the safety list and
// a story naming people, and returns the staff-route case's reference. The core pages
// alice at the first "yes", before the story, and again when nobody acknowledged in
// time, with the story told: both page rows are taken out of the outbox for the
// tests to send.
func (r *rig) staffCase() string {
	r.t.Helper()
	r.tell(r.svc, requester, "!dm:localhost", "hello", "yes")
	r.tell(r.svc, requester, "!dm:localhost", story...)
	var ref string
	if err := r.st.DB.Get(&ref, `SELECT ref FROM cases WHERE route = 'staff'`); err != nil {
		r.t.Fatalf("no staff-route case: %v", err)
	}
	if err := r.st.InTx(context.Background(), func(tx bot.Tx) error {
		c, err := tx.CaseByRef(context.Background(), ref)
		if err == nil && c.Description != secretStory {
			err = fmt.Errorf("the case holds %q", c.Description)
		}
		return err
	}); err != nil {
		r.t.Fatalf("the staff-route case does not hold the story: %v", err)
	}
	r.clock.Add((6 * time.Minute).Milliseconds())
	if n, err := r.svc.FireDueTimers(context.Background()); err != nil || n == 0 {
		r.t.Fatalf("the unacknowledged page did not page again: %d timers, %v", n, err)
	}
	// From here on the tests send the case's pages themselves.
	if _, err := r.st.DB.Exec(`DELETE FROM timers WHERE kind = $1`, bot.TimerPageAck); err != nil {
		r.t.Fatal(err)
	}
	r.pages = map[int]bot.Outgoing{}
	for _, o := range r.takePages() {
		if o.Conversation != alice || o.Payload.Ref != ref {
			r.t.Fatalf("a page not for alice about %s: %+v", ref, o)
		}
		r.pages[o.Payload.Round] = o
	}
	if len(r.pages) != 2 || r.pages[1].ID == 0 || r.pages[2].ID == 0 {
		r.t.Fatalf("want a page row for rounds 1 and 2, got %+v", r.pages)
	}
	return ref
}

// recordRows is a Sender that notes every row before the pager sends it, so the rows
// the outbox hands over are scanned for secrets too.
type recordRows struct {
	r *rig
	p *pager.Pager
}

func (s recordRows) Send(ctx context.Context, o bot.Outgoing) error {
	s.r.givenMu.Lock()
	s.r.given = append(s.r.given, o)
	s.r.givenMu.Unlock()
	return s.p.Send(ctx, o)
}

// takePages takes the page rows out of the outbox.
func (r *rig) takePages() []bot.Outgoing {
	r.t.Helper()
	rows, err := r.st.PendingOutbox(context.Background(), bot.Pager, 0, 1000)
	if err != nil {
		r.t.Fatal(err)
	}
	for _, o := range rows {
		if o.Action != bot.ActionPage {
			r.t.Fatalf("not a page: %+v", o)
		}
		if err := r.st.OutboxSent(context.Background(), o.ID); err != nil {
			r.t.Fatal(err)
		}
	}
	return rows
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

// page is the outbox row the core wrote to page alice in round 1 (before the story
// was told) or 2 (after).
func (r *rig) page(round int) bot.Outgoing {
	r.t.Helper()
	o, ok := r.pages[round]
	if !ok {
		r.t.Fatalf("the core wrote no page for round %d", round)
	}
	return o
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

// waitMail waits until the e-mails for address satisfy done, and returns them.
func (r *rig) waitMail(address string, timeout time.Duration, done func([]*mail.Message) bool) []*mail.Message {
	r.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		msgs := r.mail.Messages(r.t, address)
		if done(msgs) {
			return msgs
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("after %v, %d e-mails for %s, not the awaited ones", timeout, len(msgs), address)
		}
		time.Sleep(20 * time.Millisecond)
	}
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
