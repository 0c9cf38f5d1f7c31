package matrix_test

import (
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"switchboard/config"
	"switchboard/internal/testenv"
)

// A staff-route case pages the on-call chain end to end: a mention in the encrypted
// staff room, ntfy and a PagerDuty-style webhook on loopback recorders, e-mail through
// Mailpit. A failing webhook is reported and holds up nothing; no ack in time pages the
// next person; !ack stops the chain and opens a staff room with the requester. No page
// carries the story or a party's name.
func TestPagingEndToEnd(t *testing.T) {
	t.Parallel()
	b := newBot(t, testenv.Homeserver(t), testenv.NewDB(t))
	staff, staffRoom := staffRoomFor(t, b)
	s2 := testenv.NewMatrixUser(t, "oncall2")
	ntfy, webhook := testenv.NewRecorder(t), testenv.NewRecorder(t)
	webhook.FailAlways(500)
	mp := testenv.NewMailpit(t, testenv.MailpitOptions{})
	s1ID, s2ID := staff.UserID().String(), s2.UserID().String()
	b.cfg.Service.Staff = []string{s1ID, s2ID}
	b.cfg.Service.OnCall.Chain = []string{s1ID, s2ID}
	b.cfg.Service.OnCall.AckTimeout = config.Duration(6 * time.Second) // below the minimum, for the test
	b.cfg.Pager = config.Pager{
		Contacts: map[string]config.PagerContact{
			s1ID: {Ntfy: ntfy.URL() + "/s1topic", Webhook: webhook.URL() + "/v2/enqueue", WebhookRoutingKey: "rk-s1", Email: "s1@example.test"},
			s2ID: {Ntfy: ntfy.URL() + "/s2topic"},
		},
		SMTP:     config.SMTP{Host: mp.SMTPHost(), Port: mp.SMTPPort(), From: "switchboard@example.test"},
		Attempts: 2, RetryBackoff: config.Duration(200 * time.Millisecond), Timeout: config.Duration(2 * time.Second),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	joinRoom(t, ctx, s2, staffRoom, staff)
	b.start()

	alice := newRequester(t, b, "alice")
	alice.answer("hello", "1 of 4")
	start := time.Now()
	alice.answer("yes", "emergency@wikimedia.org")
	mention := staff.Expect(t, staffRoom, "needs an on-call staff member")
	if ids := mentionsOf(mention); len(ids) != 1 || ids[0] != staff.UserID() || !mention.Encrypted {
		t.Errorf("the page in the staff room must mention the primary: %v", ids)
	}
	ref := refIn(t, mention.Body)
	ntfy1 := ntfy.WaitFor(t, 1, 20*time.Second)[0]
	if ntfy1.Path != "/s1topic" || !strings.Contains(string(ntfy1.Body), ref) || ntfy1.Header.Get("Priority") != "urgent" {
		t.Errorf("ntfy page: %s %q %v", ntfy1.Path, ntfy1.Body, ntfy1.Header)
	}
	mails := mp.WaitMessages(t, "s1@example.test", 1, 20*time.Second)
	body, _ := io.ReadAll(mails[0].Body)
	if !strings.Contains(mails[0].Header.Get("Subject")+string(body), ref) {
		t.Errorf("e-mail page without the reference: %q", body)
	}
	// The webhook keeps failing: it is reported, and the other channels did not wait.
	staff.Expect(t, staffRoom, "through webhook failed")
	hooks := webhook.Requests()
	var pd struct {
		RoutingKey  string `json:"routing_key"`
		EventAction string `json:"event_action"`
		DedupKey    string `json:"dedup_key"`
	}
	if len(hooks) == 0 || json.Unmarshal(hooks[0].Body, &pd) != nil || pd.RoutingKey != "rk-s1" || pd.EventAction != "trigger" ||
		!strings.Contains(pd.DedupKey, ref) {
		t.Errorf("webhook body: %+v", pd)
	}
	alice.answer("no", "3 of 4")
	alice.answer("no", "4 of 4")
	alice.answer("no", "what happened")
	alice.answer("Jane Secretperson follows me home from work", "usernames")
	alice.answer("Stalker_account", "Which wiki")

	// Nobody acknowledged: the next in the chain is paged.
	s2.Expect(t, staffRoom, s2ID)
	ntfy2 := ntfy.WaitFor(t, 2, 30*time.Second)[1]
	if ntfy2.Path != "/s2topic" || time.Since(start) < 5*time.Second {
		t.Errorf("second page %s after %s", ntfy2.Path, time.Since(start))
	}
	if _, err := s2.Send(ctx, staffRoom, "!ack "+ref); err != nil {
		t.Fatal(err)
	}
	s2.Expect(t, staffRoom, "Paging has stopped")
	paged := len(ntfy.Requests())
	inv, err := s2.NextInvite(ctx)
	for err == nil && inv.Room == staffRoom { // the staff room's own invitation comes first
		inv, err = s2.NextInvite(ctx)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			rows, err := b.db().Query(`SELECT kind || ' ' || actor FROM case_events ORDER BY id`)
			if err != nil {
				t.Log("case events:", err)
				return
			}
			defer rows.Close()
			for rows.Next() {
				var k string
				if err := rows.Scan(&k); err != nil {
					t.Log("case event:", err)
					continue
				}
				t.Log("event:", k)
			}
			var st, rid, sid string
			err = b.db().QueryRow(`SELECT state, room_id, staff_id FROM cases WHERE ref = $1`, ref).Scan(&st, &rid, &sid)
			t.Log("case:", st, rid, sid, err, "invite room", inv.Room)
		}
	})
	s2.Expect(t, inv.Room, ref)

	// Nobody else is paged after !ack. A second request is the anchor: its own page to
	// s2 comes one ack timeout after it opens, later than any timer left on the first
	// case would have fired, and timers fire in the order they are due.
	pagedEvents := `SELECT count(*) FROM case_events e JOIN cases c ON c.id = e.case_id WHERE c.ref = $1 AND e.kind = 'paged'`
	pagesBefore := b.count(pagedEvents, ref)
	carol := newRequester(t, b, "carol")
	carol.answer("hello", "1 of 4")
	carol.answer("yes", "emergency@wikimedia.org")
	var ref2 string
	if err := b.db().QueryRow(`SELECT ref FROM cases WHERE ref <> $1`, ref).Scan(&ref2); err != nil {
		t.Fatalf("no second case: %v", err)
	}
	if _, err := s2.WaitFor(ctx, staffRoom, func(m testenv.Msg) bool {
		ids := mentionsOf(m)
		return strings.Contains(m.Body, ref2) && len(ids) == 1 && ids[0] == s2.UserID()
	}); err != nil {
		t.Fatalf("the second request never reached s2: %v", err)
	}
	if n := b.count(pagedEvents, ref); n != pagesBefore {
		t.Errorf("%d more pages of %s after !ack", n-pagesBefore, ref)
	}
	for _, r := range ntfy.Requests()[paged:] {
		if strings.Contains(string(r.Body), ref) {
			t.Errorf("a page of %s after !ack: %s %q", ref, r.Path, r.Body)
		}
	}
	// Nothing of the case in any page.
	var all []string
	for _, r := range append(ntfy.Requests(), webhook.Requests()...) {
		all = append(all, string(r.Body))
	}
	for _, m := range mp.Messages(t, "") {
		bb, _ := io.ReadAll(m.Body)
		all = append(all, m.Header.Get("Subject"), string(bb))
	}
	for _, m := range staff.Messages(staffRoom) {
		all = append(all, m.Body)
	}
	for _, s := range all {
		if strings.Contains(s, "Secretperson") || strings.Contains(s, "Stalker") || strings.Contains(s, alice.c.UserID().String()) ||
			strings.Contains(s, carol.c.UserID().String()) {
			t.Errorf("a page or staff-room notice carries case content: %q", s)
		}
	}
}

func joinRoom(t *testing.T, ctx context.Context, c *testenv.Client, room id.RoomID, inviter *testenv.Client) {
	t.Helper()
	if _, err := inviter.Mautrix().InviteUser(ctx, room, &mautrix.ReqInviteUser{UserID: c.UserID()}); err != nil {
		t.Fatal(err)
	}
	if err := c.Join(ctx, room); err != nil {
		t.Fatal(err)
	}
}

func mentionsOf(m testenv.Msg) []id.UserID {
	if m.Event == nil {
		return nil
	}
	c := m.Event.Content.AsMessage()
	if c.Mentions == nil {
		return nil
	}
	return c.Mentions.UserIDs
}

func refIn(t *testing.T, body string) string {
	t.Helper()
	i := strings.Index(body, "SB-")
	if i < 0 || len(body) < i+8 {
		t.Fatalf("no reference in %q", body)
	}
	return body[i : i+8]
}
