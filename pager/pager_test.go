package pager_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"os"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/rs/zerolog"

	"switchboard/bot"
	"switchboard/i18n"
	"switchboard/internal/testenv"
	"switchboard/pager"
)

// A page reaches ntfy, the webhook and e-mail, each in its own format, and says only
// the reference and where to act.
func TestPageReachesEveryChannel(t *testing.T) {
	r := newRig(t)
	p := r.pager(nil)
	r.send(p, r.page(1))

	title := "Switchboard: staff-route case " + r.ref
	body := r.cat.Text("en", "switchboard-page-body", r.ref)
	if !strings.Contains(body, "!ack "+r.ref) || !strings.Contains(body, "staff room") {
		t.Fatalf("the page does not say where to act: %q", body)
	}

	n := r.ntfy.Requests()
	if len(n) != 1 {
		t.Fatalf("%d ntfy requests", len(n))
	}
	if n[0].Method != "POST" || n[0].Path != "/sb-k2f9x7q4" || string(n[0].Body) != body ||
		n[0].Header.Get("Title") != title || n[0].Header.Get("Priority") != "urgent" ||
		n[0].Header.Get("Tags") == "" || n[0].Header.Get("Authorization") != "Bearer tk_secret_token" {
		t.Errorf("ntfy request: %s %s %q %v", n[0].Method, n[0].Path, n[0].Body, n[0].Header)
	}

	h := r.hook.Requests()
	if len(h) != 1 || h[0].Path != "/v2/enqueue" || h[0].Header.Get("Content-Type") != "application/json" {
		t.Fatalf("webhook requests: %+v", h)
	}
	var ev struct {
		RoutingKey  string `json:"routing_key"`
		EventAction string `json:"event_action"`
		DedupKey    string `json:"dedup_key"`
		Payload     struct {
			Summary, Source, Severity string
			CustomDetails             map[string]any `json:"custom_details"`
		} `json:"payload"`
	}
	if err := json.Unmarshal(h[0].Body, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.RoutingKey != "R0UTINGKEY" || ev.EventAction != "trigger" || ev.DedupKey != "switchboard-"+r.ref ||
		ev.Payload.Summary != body || ev.Payload.Source != "switchboard" || ev.Payload.Severity != "critical" ||
		ev.Payload.CustomDetails["ref"] != r.ref || ev.Payload.CustomDetails["round"] != 1.0 {
		t.Errorf("PagerDuty event: %s", h[0].Body)
	}

	msgs := r.mail.WaitMessages(t, "alice@oncall.test", 1, 10*time.Second)
	m := msgs[0]
	if m.Header.Get("Subject") != title || m.Header.Get("From") != `"Switchboard" <switchboard@desk.test>` ||
		m.Header.Get("To") != `"Alice" <alice@oncall.test>` || m.Header.Get("Auto-Submitted") != "auto-generated" ||
		m.Header.Get("Importance") != "high" || !strings.HasPrefix(m.Header.Get("Content-Type"), "text/plain; charset=utf-8") {
		t.Errorf("e-mail headers: %v", m.Header)
	}
	if got := strings.TrimSpace(mailText(t, m)); got != body {
		t.Errorf("e-mail body %q, want %q", got, body)
	}
	if f := r.failures(); len(f) != 0 {
		t.Errorf("nothing failed, yet the staff room heard %q", f)
	}

	// The next round pages again, into the same incident.
	r.send(p, r.page(2))
	h = r.hook.WaitFor(t, 2, 15*time.Second)
	if !strings.Contains(string(h[1].Body), `"dedup_key":"switchboard-`+r.ref+`"`) || !strings.Contains(string(h[1].Body), `"round":2`) {
		t.Errorf("second round: %s", h[1].Body)
	}
	r.mail.WaitMessages(t, "alice@oncall.test", 2, 10*time.Second)
	r.expectNoSecrets()
}

// expectNoSecrets scans everything any channel received, and the page rows the
// pager was given, for what the requester told and for who they are; also names
// other requesters who must not show.
func (r *rig) expectNoSecrets(also ...string) {
	r.t.Helper()
	var ntfy, hook, mail, rows []string
	for _, rec := range r.ntfy.Requests() {
		ntfy = append(ntfy, requestText(rec))
	}
	for _, rec := range r.hook.Requests() {
		hook = append(hook, requestText(rec))
	}
	var dec mime.WordDecoder
	for _, m := range r.mail.Messages(r.t, "") {
		// Decoded, since quoted-printable may break a word across lines.
		text := mailText(r.t, m)
		for k, v := range m.Header {
			for _, h := range v {
				if d, err := dec.DecodeHeader(h); err == nil {
					h = d
				}
				text += "\n" + k + ": " + h
			}
		}
		mail = append(mail, text)
	}
	for _, o := range r.pages {
		rows = append(rows, fmt.Sprintf("%+v", o))
	}
	r.givenMu.Lock()
	for _, o := range r.given {
		rows = append(rows, fmt.Sprintf("%+v", o))
	}
	r.givenMu.Unlock()
	if len(ntfy) == 0 || len(hook) == 0 || len(mail) == 0 {
		r.t.Fatalf("nothing to scan: %d ntfy requests, %d webhook requests, %d e-mails", len(ntfy), len(hook), len(mail))
	}
	forbidden := append(append([]string{requester, "requester-private", "en.wikipedia.org"}, told...), also...)
	for _, seen := range [][]string{ntfy, hook, mail, rows} {
		for _, s := range seen {
			for _, f := range forbidden {
				if strings.Contains(strings.ToLower(s), strings.ToLower(f)) {
					r.t.Errorf("a page shows %q: %q", f, s)
				}
			}
		}
	}
}

// requestText is all of an HTTP request a phone or an on-call tool sees.
func requestText(rec testenv.Request) string {
	text := rec.Method + " " + rec.Path + "\n" + string(rec.Body)
	for k, v := range rec.Header {
		text += "\n" + k + ": " + strings.Join(v, ",")
	}
	return text
}

func mailText(t *testing.T, m *mail.Message) string {
	t.Helper()
	var rd io.Reader = m.Body
	if m.Header.Get("Content-Transfer-Encoding") == "quoted-printable" {
		rd = quotedprintable.NewReader(m.Body)
	}
	b, err := io.ReadAll(rd)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The text comes from the catalogue, in the configured language; a title that is not
// ASCII survives HTTP and mail headers (RFC 2047).
func TestPageTextFromTheCatalogue(t *testing.T) {
	r := newRig(t)
	en, err := os.ReadFile("../i18n/en.json")
	if err != nil {
		t.Fatal(err)
	}
	cat, err := i18n.LoadFS(fstest.MapFS{
		"en.json": {Data: en},
		"de.json": {Data: []byte(`{"switchboard-page-title": "Switchboard: Fall $1 für die Mitarbeitenden",
			"switchboard-page-body": "Switchboard: Fall $1 braucht eine Bereitschaft. Übernehmen mit !ack $1 im Mitarbeiterraum."}`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg := pager.Config{
		Contacts: map[string]pager.Contact{alice: r.contact()},
		SMTP:     pager.SMTP{Host: r.mail.SMTPHost(), Port: r.mail.SMTPPort(), From: "switchboard@desk.test"},
		Language: "de", RetryBackoff: 50 * time.Millisecond,
	}
	p, err := pager.New(cfg, r.svc, cat, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	r.send(p, r.page(1))
	title := "Switchboard: Fall " + r.ref + " für die Mitarbeitenden"
	var dec mime.WordDecoder
	n := r.ntfy.Requests()
	if got, err := dec.DecodeHeader(n[0].Header.Get("Title")); err != nil || got != title {
		t.Errorf("ntfy title %q (%v), want %q", got, err, title)
	}
	if !strings.Contains(string(n[0].Body), "Übernehmen mit !ack "+r.ref) {
		t.Errorf("ntfy body %q", n[0].Body)
	}
	m := r.mail.WaitMessages(t, "alice@oncall.test", 1, 10*time.Second)[0]
	if got, err := dec.DecodeHeader(m.Header.Get("Subject")); err != nil || got != title {
		t.Errorf("e-mail subject %q (%v), want %q", got, err, title)
	}
	if got := mailText(t, m); !strings.Contains(got, "Übernehmen mit !ack "+r.ref) {
		t.Errorf("e-mail body %q", got)
	}
}

// Rows that are not pages are refused for good; a staff member without channels is
// nothing to do.
func TestSendRefusesWhatIsNotAPage(t *testing.T) {
	r := newRig(t)
	p := r.pager(nil)
	for _, o := range []bot.Outgoing{
		{Platform: bot.Pager, Conversation: alice, Plain: "hello"},
		{Platform: bot.Pager, Conversation: alice, Action: bot.ActionPage, Payload: bot.ActionPayload{Ref: "SB-1\r\nX-Evil: 1"}},
		{Platform: bot.Pager, Conversation: alice, Action: bot.ActionPage},
		{Platform: bot.Pager, Conversation: alice, Action: bot.ActionPageAck, Payload: bot.ActionPayload{Ref: "SB-1\nX"}},
	} {
		if err := p.Send(t.Context(), o); !errors.Is(err, bot.ErrPermanent) {
			t.Errorf("Send(%+v) = %v, want ErrPermanent", o, err)
		}
	}
	o := r.page(1)
	o.Conversation = "@nobody:localhost"
	if err := p.Send(t.Context(), o); err != nil || p.Has("@nobody:localhost") || !p.Has(alice) {
		t.Errorf("unknown staff member: %v", err)
	}
	if len(r.ntfy.Requests())+len(r.hook.Requests()) != 0 {
		t.Error("something was sent")
	}
}

// After !ack and !close, the webhook's on-call tool hears "acknowledge" and then
// "resolve" for the same incident (dedup key), with no payload; ntfy and e-mail,
// which cannot take a page back, hear nothing.
func TestFollowUpsReachTheWebhookOnly(t *testing.T) {
	r := newRig(t)
	p := r.pager(nil)
	r.send(p, r.page(1))
	for _, action := range []bot.Action{bot.ActionPageAck, bot.ActionPageResolve} {
		r.send(p, bot.Outgoing{ID: r.seq.Add(1), Platform: bot.Pager, Conversation: alice, Action: action,
			Payload: bot.ActionPayload{Ref: r.ref}})
	}
	h := r.hook.Requests()
	if len(h) != 3 {
		t.Fatalf("%d webhook requests, want the page and two follow-ups", len(h))
	}
	for i, want := range []string{"trigger", "acknowledge", "resolve"} {
		var ev map[string]any
		if err := json.Unmarshal(h[i].Body, &ev); err != nil {
			t.Fatal(err)
		}
		if ev["event_action"] != want || ev["dedup_key"] != "switchboard-"+r.ref || ev["routing_key"] != "R0UTINGKEY" {
			t.Errorf("webhook request %d: %s", i, h[i].Body)
		}
		if _, has := ev["payload"]; has != (want == "trigger") {
			t.Errorf("webhook request %d: payload present %v", i, has)
		}
	}
	if n := len(r.ntfy.Requests()); n != 1 {
		t.Errorf("%d ntfy requests, want the page only", n)
	}
	// The next round's page is the marker: once its e-mail is in, any e-mail sent
	// for the follow-ups, which went before it, would be in too.
	r.send(p, r.page(2))
	msgs := r.waitMail("alice@oncall.test", 15*time.Second, func(msgs []*mail.Message) bool {
		for _, m := range msgs {
			if m.Header.Get("Message-ID") == messageID(r.page(2)) {
				return true
			}
		}
		return false
	})
	var ids []string
	for _, m := range msgs {
		ids = append(ids, m.Header.Get("Message-ID"))
	}
	slices.Sort(ids)
	want := []string{messageID(r.page(1)), messageID(r.page(2))}
	slices.Sort(want)
	if !slices.Equal(ids, want) {
		t.Errorf("e-mails %q, want the page and the marker only: %q", ids, want)
	}
	if len(r.failures()) != 0 {
		t.Errorf("staff-room notices: %q", r.failures())
	}
}

// messageID is the Message-ID of the e-mail paging o.
func messageID(o bot.Outgoing) string {
	return fmt.Sprintf("<page.%s.%d.%d@desk.test>", o.Payload.Ref, o.ID, o.Payload.Round)
}

// Tapping the ntfy notification opens the staff room, where the page is acknowledged;
// without a staff room configured, it opens nothing.
func TestNtfyOpensTheStaffRoom(t *testing.T) {
	r := newRig(t)
	r.send(r.pager(nil), r.page(1))
	r.send(r.pager(func(c *pager.Config) { c.StaffRoom = staffRoom }), r.page(2))
	n := r.ntfy.Requests()
	if len(n) != 2 {
		t.Fatalf("%d ntfy requests", len(n))
	}
	if got := n[0].Header.Get("Click"); got != "" {
		t.Errorf("no staff room, but Click %q", got)
	}
	if got := n[1].Header.Get("Click"); got != "https://matrix.to/#/!staff:localhost" {
		t.Errorf("Click %q", got)
	}
}
