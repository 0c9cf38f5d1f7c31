package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/id"

	"switchboard/internal/testenv"
)

func post(t *testing.T, url, body string, header map[string]string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// Acknowledging from the phone, with the real binary: the ntfy page's "Acknowledge"
// button acks as the person paged, once; a forged or replayed token changes nothing
// and is audited; an on-call tool's signed webhook acks another case, and an
// unsigned one is refused and audited.
func TestAckFromPhone(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	hs := testenv.Homeserver(t)
	botID, password := hs.NewUser(t, "switchboard")
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	staff := testenv.NewMatrixUser(t, "staff")
	staffRoom, err := staff.CreateRoom(ctx, "Staff", botID)
	if err != nil {
		t.Fatal(err)
	}
	ntfy, pd := testenv.NewRecorder(t), testenv.NewRecorder(t)
	port := testenv.ReservePort(t)
	const webhookSecret = "pd-webhook-secret-0123456789"
	dsn := testenv.NewDB(t)
	cfgPath := filepath.Join(t.TempDir(), "config.yaml")
	cfg := fmt.Sprintf(`homeserver: {url: %s}
bot: {user-id: "%s", password: %s}
encryption: {pickle-key: phone-ack-pickle-key-0123, data-key: phone-ack-data-key-0123456789abcdefghijklmn}
database: {url: "%s"}
service:
  staff-room: "%s"
  staff: ["%s"]
  on-call: {chain: ["%s"]}
pager:
  contacts:
    "%s": {ntfy: "%s/oncall", webhook: "%s/enqueue", webhook-routing-key: rk}
  ack:
    listen: "127.0.0.1:%d"
    public-url: "http://127.0.0.1:%d"
    secret: phone-ack-secret-0123456789abcdef0123
    webhook-secret: %s
metrics: {listen: "127.0.0.1:0"}
logging: {level: debug, format: json}
`, hs.URL(), botID, password, dsn, staffRoom, staff.UserID(), staff.UserID(), staff.UserID(), ntfy.URL(), pd.URL(),
		port, port, webhookSecret)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startProc(t, bin, cfgPath)
	waitReady(t, opsAddr(t, p, 60*time.Second), "leader", 90*time.Second)
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	count := func(query string, args ...any) int {
		t.Helper()
		var n int
		if err := db.QueryRow(query, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	staffOf := func(ref string) string {
		t.Helper()
		var s string
		if err := db.QueryRow(`SELECT staff_id FROM cases WHERE ref = $1`, ref).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	// openStaffCase walks a requester to a staff-route case and returns its page.
	openStaffCase := func(name string, pages int) (string, testenv.Request) {
		t.Helper()
		staffRouteRequest(t, ctx, id.UserID(botID), name)
		pg := ntfy.WaitFor(t, pages, 60*time.Second)[pages-1]
		ref := regexp.MustCompile(`SB-[A-Z0-9]+`).FindString(string(pg.Body))
		if ref == "" {
			t.Fatalf("no reference in the page %q", pg.Body)
		}
		return ref, pg
	}

	ref, pg := openStaffCase("alice", 1)
	if click := pg.Header.Get("Click"); !strings.Contains(click, "matrix.to") || !strings.Contains(click, staffRoom.String()) {
		t.Errorf("tapping the page must still open the staff room, Click: %q", click)
	}
	action := regexp.MustCompile(`^http, Acknowledge, (\S+), method=POST, clear=true$`).FindStringSubmatch(pg.Header.Get("Actions"))
	if action == nil {
		t.Fatalf("no Acknowledge action on the page: %q", pg.Header.Get("Actions"))
	}
	url := action[1]
	if strings.Contains(url, staff.UserID().String()) || strings.Contains(url, "staff") {
		t.Errorf("the token names the person: %s", url)
	}
	// A forged token: the right shape, another MAC.
	forged := url[:len(url)-5] + map[bool]string{true: "AAAAA", false: "BBBBB"}[!strings.HasSuffix(url, "AAAAA")]
	if code := post(t, forged, "", nil); code != http.StatusForbidden {
		t.Errorf("a forged token: %d", code)
	}
	if s := staffOf(ref); s != "" {
		t.Fatalf("a forged token acknowledged the case as %q", s)
	}
	if code := post(t, url, "", nil); code != http.StatusOK {
		t.Fatalf("the real token: %d", code)
	}
	staff.Expect(t, staffRoom, ref+" is with")
	if s := staffOf(ref); s != staff.UserID().String() {
		t.Errorf("the case is with %q, want %s", s, staff.UserID())
	}
	// Replayed: refused, nothing changes, audited.
	if code := post(t, url, "", nil); code != http.StatusForbidden {
		t.Errorf("a replayed token: %d", code)
	}
	if n := count(`SELECT count(*) FROM case_events e JOIN cases c ON c.id = e.case_id WHERE c.ref = $1 AND e.kind = 'acked'`, ref); n != 1 {
		t.Errorf("%d acked events, want 1", n)
	}
	for _, reason := range []string{"forged", "replayed"} {
		if n := count(`SELECT count(*) FROM case_events e JOIN cases c ON c.id = e.case_id
			WHERE c.ref = $1 AND e.kind = 'phone_ack_refused' AND e.detail->>'reason' = $2`, ref, reason); n != 1 {
			t.Errorf("%d audit rows for the %s token, want 1", n, reason)
		}
	}

	// The on-call tool acknowledges the next case by webhook.
	ref2, _ := openStaffCase("bob", 2)
	body := fmt.Sprintf(`{"event":{"id":"01EVT%d","event_type":"incident.acknowledged","resource_type":"incident",
		"data":{"id":"PINC","type":"incident","incident_key":"switchboard-%s","title":"Switchboard %s"}}}`, time.Now().UnixNano(), ref2, ref2)
	if code := post(t, fmt.Sprintf("http://127.0.0.1:%d/pager/webhook", port), body,
		map[string]string{"X-PagerDuty-Signature": "v1=" + strings.Repeat("0", 64)}); code != http.StatusUnauthorized {
		t.Errorf("an unsigned webhook: %d", code)
	}
	if s := staffOf(ref2); s != "" {
		t.Fatalf("an unsigned webhook acknowledged the case as %q", s)
	}
	if n := count(`SELECT count(*) FROM case_events WHERE kind = 'phone_ack_refused' AND detail->>'reason' = 'bad signature'`); n != 1 {
		t.Errorf("%d audit rows for the bad signature, want 1", n)
	}
	mac := hmac.New(sha256.New, []byte(webhookSecret))
	mac.Write([]byte(body))
	sig := "v1=" + hex.EncodeToString(mac.Sum(nil))
	if code := post(t, fmt.Sprintf("http://127.0.0.1:%d/pager/webhook", port), body,
		map[string]string{"X-PagerDuty-Signature": sig}); code != http.StatusOK {
		t.Fatalf("a signed webhook: %d", code)
	}
	staff.Expect(t, staffRoom, ref2+" is with")
	// Not paged again: the acknowledgement timer is gone with the ack.
	if n := count(`SELECT count(*) FROM timers t JOIN cases c ON c.id = t.subject WHERE t.kind = 'page_ack' AND c.ref = $1`, ref2); n != 0 {
		t.Errorf("the case still has %d page_ack timers", n)
	}
}
