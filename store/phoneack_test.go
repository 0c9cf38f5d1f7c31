package store_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"switchboard/bot"
	"switchboard/internal/testenv"
	"switchboard/pager"
)

// Acknowledging from the phone against the core and a database, with the desk's
// clock: a token is good for its whole paging round, whoever else was paged since,
// and refused once the round is over; an on-call tool's "resolved" acks as the
// person it pages, its replay and a webhook for someone it does not page are
// refused. Every refusal changes nothing and is audited with its reason.
func TestPhoneAckRoundsAndWebhooks(t *testing.T) {
	const s1, s2 = "@s1:localhost", "@s2:localhost"
	const webhookSecret = "webhook-secret-0123456789"
	d := newDesk(t, testenv.NewDB(t))
	d.reconfigure(func(c *bot.Config) {
		c.Staff = []string{staff, s1, s2}
		c.OnCall, c.AckTimeout, c.MaxRounds, c.Pager = []string{s1, s2}, 5*time.Minute, 3, true
	})
	signer := pager.NewSigner("ack-secret-0123456789abcdef", "https://bot.example")
	// Nothing is sent through these contacts: they say who has which channel.
	pg, err := pager.New(pager.Config{Contacts: map[string]pager.Contact{
		s1: {Ntfy: "http://127.0.0.1:1/s1"},
		s2: {Webhook: "http://127.0.0.1:1/enqueue", WebhookRoutingKey: "rk"},
	}, Ack: signer}, d.svc, mustCatalogue(t), zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	h := pager.NewAckServer(signer, webhookSecret, d.svc, pg, zerolog.Nop()).Handler()
	post := func(path, body string, header map[string]string) int {
		t.Helper()
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
		for k, v := range header {
			req.Header.Set(k, v)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w.Code
	}
	fire := func(after time.Duration) {
		t.Helper()
		d.advance(after)
		if _, err := d.svc.FireDueTimers(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	// pageOf takes the pages out of the outbox and returns the token of who's page.
	pageOf := func(who string) string {
		t.Helper()
		_, _, rows := d.pages()
		for _, r := range rows {
			if r.Platform == bot.Pager && r.Conversation == who {
				if r.Payload.AckBy == 0 {
					t.Fatalf("the page of %s has no end of round", who)
				}
				return signer.Token(r.Payload.Ref, who, r.Payload.Round, r.Payload.AckBy)
			}
		}
		t.Fatalf("%s was not paged", who)
		return ""
	}
	staffOf := func(ref string) string {
		t.Helper()
		var s string
		if err := d.st.DB.Get(&s, `SELECT staff_id FROM cases WHERE ref = $1`, ref); err != nil {
			t.Fatal(err)
		}
		return s
	}
	refused := func(reason string) int {
		t.Helper()
		return d.count(`SELECT count(*) FROM case_events WHERE kind = 'phone_ack_refused' AND detail->>'reason' = $1`, reason)
	}
	webhook := func(eventID, eventType, ref string) (string, map[string]string) {
		body := fmt.Sprintf(`{"event":{"id":"%s","event_type":"incident.%s","resource_type":"incident",
			"data":{"id":"PINC","type":"incident","incident_key":"switchboard-%s"}}}`, eventID, eventType, ref)
		mac := hmac.New(sha256.New, []byte(webhookSecret))
		mac.Write([]byte(body))
		return body, map[string]string{"X-PagerDuty-Signature": "v1=" + hex.EncodeToString(mac.Sum(nil))}
	}

	// s1's token of round 1 still acks after the chain moved on to s2, as s1.
	ref1 := d.staffCase(alice, room)
	tok1 := pageOf(s1)
	fire(6 * time.Minute)
	pageOf(s2)
	if code := post("/pager/ack/"+tok1, "", nil); code != http.StatusOK {
		t.Fatalf("s1's token within its round: %d", code)
	}
	if got := staffOf(ref1); got != s1 {
		t.Errorf("the case is with %q, want %s (the person the token was made for)", got, s1)
	}

	// Once the round is over the token is refused: no ack, audited as expired.
	const bob, bobRoom = "@bob:localhost", "!dm-bob:localhost"
	ref2 := d.staffCase(bob, bobRoom)
	tok2 := pageOf(s1)
	d.advance(10*time.Minute + time.Second) // both people's time: the round's end
	if code := post("/pager/ack/"+tok2, "", nil); code != http.StatusForbidden {
		t.Errorf("a token after its round: %d", code)
	}
	if got := staffOf(ref2); got != "" || refused("expired") != 1 {
		t.Errorf("an expired token: case with %q, %d audit rows", got, refused("expired"))
	}
	if code := post("/pager/ack/not-a-token", "", nil); code != http.StatusForbidden || refused("malformed token") != 1 {
		t.Errorf("a malformed token: %d, %d audit rows", code, refused("malformed token"))
	}

	// A signed webhook for someone it does not page (s1 has no webhook) is refused.
	if body, sig := webhook("01A", "resolved", ref2); post("/pager/webhook", body, sig) != http.StatusForbidden {
		t.Error("a webhook about a case only s1 (no webhook) was paged for was not refused")
	}
	if got := staffOf(ref2); got != "" || refused("forged") != 1 {
		t.Errorf("a webhook for an unpaged person: case with %q, %d audit rows", got, refused("forged"))
	}
	// The chain reaches s2, whose on-call tool says "resolved": s2 has it.
	fire(0)
	pageOf(s2)
	body, sig := webhook("01B", "resolved", ref2)
	if code := post("/pager/webhook", body, sig); code != http.StatusOK {
		t.Fatalf("a signed resolved webhook: %d", code)
	}
	if got := staffOf(ref2); got != s2 {
		t.Errorf("the case is with %q, want %s", got, s2)
	}
	// The same event again is a replay; another event about it finds it taken.
	if code := post("/pager/webhook", body, sig); code != http.StatusForbidden || refused("replayed") != 1 {
		t.Errorf("a replayed webhook: %d, %d audit rows", code, refused("replayed"))
	}
	if body, sig := webhook("01C", "acknowledged", ref2); post("/pager/webhook", body, sig) != http.StatusConflict {
		t.Error("a second webhook event for an acknowledged case did not answer 409")
	}
	if n := d.count(`SELECT count(*) FROM case_events WHERE kind = 'acked'`); n != 2 {
		t.Errorf("%d acked events, want 2", n)
	}
	if n := d.count(`SELECT count(*) FROM case_events WHERE kind = 'phone_acked' AND detail->>'via' IN ('ntfy', 'webhook')`); n != 2 {
		t.Errorf("%d phone_acked events, want 2", n)
	}
}
