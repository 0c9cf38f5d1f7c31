package store_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"switchboard/bot"
	"switchboard/internal/testenv"
)

const staff, staffRoom = "@staff:localhost", "!staff:localhost"

// volunteer puts someone through vetting and on duty, the way staff and the volunteer
// would, and returns their DM room.
func (d *desk) volunteer(id, langs string, extra ...string) string {
	d.t.Helper()
	dm := "!dm-" + strings.TrimPrefix(strings.Split(id, ":")[0], "@") + ":localhost"
	expect(d.t, d.send(staff, staffRoom, "!volunteer add "+id+" "+strings.Split(strings.TrimPrefix(id, "@"), ":")[0]), "on the roster")
	expect(d.t, d.send(staff, staffRoom, "!volunteer confirm "+id), "now trainee")
	expect(d.t, d.send(staff, staffRoom, "!volunteer promote "+id), "now active")
	expect(d.t, d.send(id, dm, "!languages "+langs), "You help in")
	for _, cmd := range extra {
		d.send(id, dm, cmd)
	}
	return dm
}

// intake walks alice through an everyday intake naming parties, and returns the case
// reference.
func (d *desk) intake(who, conv, parties, lang string) string {
	d.t.Helper()
	for _, a := range []string{"hello", "no", "no", "no", "no", "Someone keeps insulting me on talk pages", parties, "en.wikipedia.org", lang} {
		d.send(who, conv, a)
	}
	r := d.send(who, conv, "yes")
	opened := map[string]string{"de": "Deine Anfrage ist eröffnet"}[lang] // answered in her language
	if opened == "" {
		opened = "Your request is open"
	}
	expect(d.t, r, opened)
	var ref string
	if err := d.st.DB.Get(&ref, `SELECT c.ref FROM cases c JOIN people p ON p.id = c.person_id
		WHERE p.external_id = $1 ORDER BY c.id DESC LIMIT 1`, who); err != nil {
		d.t.Fatal(err)
	}
	return ref
}

func (d *desk) caseState(ref string) (state, volunteer string) {
	d.t.Helper()
	if err := d.st.DB.QueryRow(`SELECT c.state, coalesce(v.user_id, '') FROM cases c
		LEFT JOIN volunteers v ON v.id = c.volunteer_id WHERE c.ref = $1`, ref).Scan(&state, &volunteer); err != nil {
		d.t.Fatal(err)
	}
	return
}

func TestRosterNeedsStaff(t *testing.T) {
	d := newDesk(t, testenv.NewDB(t))
	// Not staff: in the staff room nothing happens; by DM the command does not exist.
	if r := d.send("@mallory:localhost", staffRoom, "!volunteer add @mallory:localhost"); len(r) != 0 {
		t.Errorf("a non-staff command in the staff room was answered: %q", r)
	}
	expect(t, d.send("@mallory:localhost", "!dm-m:localhost", "!volunteer add @mallory:localhost"), "do not know the command !volunteer")
	if n := d.count(`SELECT count(*) FROM volunteers`); n != 0 {
		t.Fatal("a non-staff member changed the roster")
	}
	for _, tc := range []struct{ cmd, want string }{
		{"!volunteer", "Write !volunteer add"}, {"!volunteer frob @a:b", "!volunteer add"},
		{"!volunteer add notanid", "!volunteer add"}, {"!volunteer confirm @nobody:localhost", "not on the roster"},
		{"!volunteer mentor @a:localhost", "!volunteer add"},
	} {
		expect(t, d.send(staff, staffRoom, tc.cmd), tc.want)
	}
	expect(t, d.send(staff, staffRoom, "!volunteer add @vic:localhost Vic_W"), "applicant")
	expect(t, d.send(staff, staffRoom, "!volunteer add @vic:localhost"), "already on the roster")
	expect(t, d.send(staff, staffRoom, "!volunteer promote @vic:localhost"), "does not fit")
	expect(t, d.send(staff, staffRoom, "!volunteer confirm @vic:localhost"), "now trainee")
	d.volunteer("@mentor:localhost", "en")
	expect(t, d.send(staff, staffRoom, "!volunteer mentor @vic:localhost @nobody:localhost"), "cannot be a mentor")
	expect(t, d.send(staff, staffRoom, "!volunteer mentor @vic:localhost @mentor:localhost"), "now mentors")
	expect(t, d.send(staff, staffRoom, "!volunteer list"), "@vic:localhost: trainee", "@mentor:localhost: active")
	expect(t, d.send(staff, staffRoom, "!volunteer suspend @vic:localhost rude to requesters"), "now suspended")
	// Staff may also do it by DM.
	expect(t, d.send(staff, "!dm-staff:localhost", "!volunteer show @vic:localhost"), "@vic:localhost", "suspended")
	if n := d.count(`SELECT count(*) FROM case_events WHERE subject = '@vic:localhost' AND actor = $1`, staff); n != 4 {
		t.Errorf("%d roster events for vic by staff; want added, confirmed, mentor, suspended", n)
	}
	expect(t, d.send(staff, staffRoom, "!audit @vic:localhost"), "volunteer_suspended", "reason=rude to requesters")
	if n := d.count(`SELECT count(*) FROM case_events WHERE kind = 'volunteer_suspended' AND detail::text LIKE '%rude%'`); n != 0 {
		t.Error("the suspension reason is written into the append-only log")
	}
}

func TestDutyCommands(t *testing.T) {
	d := newDesk(t, testenv.NewDB(t))
	dm := d.volunteer("@val:localhost", "de en")
	for _, tc := range [][]string{
		{"!on", "on duty until 20:00 UTC"},
		{"!on for 2h", "on duty until 14:00 UTC"},
		{"!on for ages", "anything from 1m to 24h"},
		{"!on for 48h", "anything from 1m to 24h"},
		{"!off", "off duty"},
		{"!shift add Mon 18:00-22:00 Europe/Berlin", "Shift added: Mon 18:00-22:00 Europe/Berlin"},
		{"!shift add Moon 18:00-22:00 Europe/Berlin", "IANA time zone"},
		{"!shift add Tue 09:00-12:00 Berlin", "IANA time zone"},
		{"!shift list", "1. Mon 18:00-22:00 Europe/Berlin"},
		{"!shift remove 5", "!shift remove 2"},
		{"!shift remove 1", "Shift removed"},
		{"!shift list", "no shifts"},
		{"!languages xx-invalid", "by name or code"},
		{"!languages Deutsch english", "You help in: de en"},
		{"!limit 0", "from 1 to 10"},
		{"!limit 3", "at most 3 cases"},
		{"!conflict add User:Bad_guy", "involve Bad guy"},
		{"!conflict list", "Bad guy"},
		{"!conflict remove nobody", "no conflict declared"},
		{"!conflict frob x", "!conflict add"},
		{"!me", "@val:localhost", "active", "de en", "of at most 3"},
		{"!accept", "no open offer"},
		{"!volunteer list", "do not know the command !volunteer"},
	} {
		expect(t, d.send("@val:localhost", dm, tc[0]), tc[1:]...)
	}
	// A volunteer can still ask for help like anyone else.
	expect(t, d.send("@val:localhost", dm, "I am being harassed myself"), "1 of 4")
}

// The routing rule: on duty, language, not the requester, not named or conflicted,
// confirmed. The offer says the reference and language, never the story or who asked.
func TestRoutingPicksTheRightVolunteer(t *testing.T) {
	d := newDesk(t, testenv.NewDB(t))
	d.volunteer("@named:localhost", "en", "!on") // wiki name "Named", a party below
	d.volunteer("@conflicted:localhost", "en", "!on", "!conflict add Troll")
	d.volunteer("@offduty:localhost", "en")
	d.volunteer("@german:localhost", "de", "!on")
	expect(t, d.send(staff, staffRoom, "!volunteer add @applicant:localhost"), "applicant")
	expect(t, d.send("@applicant:localhost", "!dm-applicant:localhost", "!on"), "do not know the command !on")
	right := d.volunteer("@right:localhost", "en fr", "!on")
	d.drain(right)
	ref := d.intake(alice, room, "named, Troll", "en")
	if st, who := d.caseState(ref); st != "offered" || who != "@right:localhost" {
		t.Fatalf("case %s, offered to %q", st, who)
	}
	offer := d.drain(right)
	expect(t, offer, ref, "language en", "!accept "+ref)
	if has(offer, "insulting") || has(offer, alice) || has(offer, "Troll") {
		t.Errorf("the offer leaks case content: %q", offer)
	}
	// The requester is never their own volunteer, although nobody else would come
	// before them: the others who fit are off duty, and right already has an offer.
	expect(t, d.send("@named:localhost", "!dm-named:localhost", "!off"), "off duty")
	expect(t, d.send("@conflicted:localhost", "!dm-conflicted:localhost", "!off"), "off duty")
	d.volunteer("@selfhelp:localhost", "en", "!on")
	selfRef := d.intake("@selfhelp:localhost", "!dm-selfhelp:localhost", "none", "en")
	if st, who := d.caseState(selfRef); st != "offered" || who != "@right:localhost" {
		t.Errorf("their own request: case %s, offered to %q; want it offered to @right:localhost", st, who)
	}
}

func TestRoutingRespectsLimitsAndLoad(t *testing.T) {
	d := newDesk(t, testenv.NewDB(t))
	d.volunteer("@one:localhost", "en", "!on", "!limit 1")
	d.volunteer("@two:localhost", "en", "!on", "!limit 2")
	var got []string
	for i := range 4 {
		ref := d.intake(fmt.Sprintf("@req%d:localhost", i), fmt.Sprintf("!dm-req%d:localhost", i), "none", "en")
		_, who := d.caseState(ref)
		got = append(got, who)
	}
	// Idle ties go to whoever was offered least recently; load counts open offers.
	want := []string{"@one:localhost", "@two:localhost", "@two:localhost", ""}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("offers went to %q, want %q", got, want)
	}
}

func TestDeclineAndExpiryMoveToNext(t *testing.T) {
	d := newDesk(t, testenv.NewDB(t))
	a := d.volunteer("@a:localhost", "en", "!on")
	b := d.volunteer("@b:localhost", "en", "!on")
	ref := d.intake(alice, room, "none", "en")
	if _, who := d.caseState(ref); who != "@a:localhost" {
		t.Fatalf("first offer to %s", who)
	}
	expect(t, d.send("@a:localhost", a, "!decline"), "goes to someone else")
	if _, who := d.caseState(ref); who != "@b:localhost" {
		t.Fatalf("after decline, offered to %q", who)
	}
	d.drain(b)
	d.advance(11 * time.Minute)
	if _, err := d.svc.FireDueTimers(context.Background()); err != nil {
		t.Fatal(err)
	}
	expect(t, d.drain(b), "has expired")
	if st, who := d.caseState(ref); st != "queued" || who != "" {
		t.Fatalf("after both passed: %s %q", st, who)
	}
	// Someone coming on duty gets the waiting case at once.
	c := d.volunteer("@c:localhost", "en")
	expect(t, d.send("@c:localhost", c, "!on for 1h"), "on duty", ref)
	if _, who := d.caseState(ref); who != "@c:localhost" {
		t.Fatalf("waiting case not offered to the volunteer who came on: %q", who)
	}
	// A volunteer who declined is never offered it again.
	if n := d.count(`SELECT count(*) FROM offers WHERE case_id = (SELECT id FROM cases WHERE ref = $1)`, ref); n != 3 {
		t.Errorf("%d offers", n)
	}
}

// Two accepts and the offer's expiry at once: exactly one outcome.
func TestAcceptRaceHasOneWinner(t *testing.T) {
	d := newDesk(t, testenv.NewDB(t))
	a := d.volunteer("@a:localhost", "en", "!on")
	ref := d.intake(alice, room, "none", "en")
	d.drain(a)
	d.advance(11 * time.Minute) // the offer is due to expire: the timer races the accepts
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i == 2 {
				if _, err := d.svc.FireDueTimers(context.Background()); err != nil {
					t.Error(err)
				}
				return
			}
			in := bot.Inbound{Platform: bot.Matrix, EventID: fmt.Sprintf("$race%d", i), Sender: "@a:localhost", Conversation: a, Text: "!accept " + ref, Device: bot.DeviceVerified}
			if err := d.svc.Handle(context.Background(), in); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	replies := d.drain(a)
	won := 0
	for _, r := range replies {
		if strings.Contains(r, "is yours") {
			won++
		}
	}
	st, _ := d.caseState(ref)
	accepted := d.count(`SELECT count(*) FROM offers WHERE state = 'accepted'`)
	switch {
	case st == "accepted" && won == 1 && accepted == 1:
	case st == "queued" && won == 0 && accepted == 0:
	default:
		t.Fatalf("state %s, %d told they won, %d accepted offers: %q", st, won, accepted, replies)
	}
}

// actions takes the queued bridge actions out of the outbox.
func (d *desk) actions() []bot.Outgoing {
	d.t.Helper()
	msgs, err := d.st.PendingOutbox(context.Background(), bot.Matrix, 0, 1000)
	if err != nil {
		d.t.Fatal(err)
	}
	var out []bot.Outgoing
	for _, m := range msgs {
		if m.Action != "" {
			out = append(out, m)
			if err := d.st.OutboxSent(context.Background(), m.ID); err != nil {
				d.t.Fatal(err)
			}
		}
	}
	return out
}

func TestCaseRoomLifecycle(t *testing.T) {
	d := newDesk(t, testenv.NewDB(t))
	a := d.volunteer("@a:localhost", "en", "!on")
	ref := d.intake(alice, room, "none", "en")
	d.drain(room)
	expect(t, d.send("@a:localhost", a, "!accept "+ref), "is yours")
	expect(t, d.drain(room), "a volunteer has taken your request")
	acts := d.actions()
	if len(acts) != 1 || acts[0].Action != bot.ActionCreateRoom || strings.Join(acts[0].Payload.Users, ",") != "@a:localhost,"+alice ||
		!strings.HasPrefix(acts[0].Payload.Alias, "sb-") || strings.Contains(acts[0].Payload.Name, "insult") {
		t.Fatalf("actions: %+v", acts)
	}
	// A second accept changes nothing.
	expect(t, d.send("@a:localhost", a, "!accept "+ref), "already yours")
	ctx := context.Background()
	if err := d.svc.RoomCreated(ctx, acts[0].Payload.CaseID, "!case:localhost"); err != nil {
		t.Fatal(err)
	}
	// The requester joining first gets nothing posted; the volunteer joining brings the summary.
	if err := d.svc.Joined(ctx, bot.Inbound{Platform: bot.Matrix, EventID: "$j1", Sender: alice, Conversation: "!case:localhost"}); err != nil {
		t.Fatal(err)
	}
	if r := d.drain("!case:localhost"); len(r) != 0 {
		t.Fatalf("posted before the volunteer joined: %q", r)
	}
	if err := d.svc.Joined(ctx, bot.Inbound{Platform: bot.Matrix, EventID: "$j2", Sender: "@a:localhost", Conversation: "!case:localhost"}); err != nil {
		t.Fatal(err)
	}
	expect(t, d.drain("!case:localhost"), "insulting me on talk pages", "!close")
	if st, _ := d.caseState(ref); st != "active" {
		t.Fatalf("state %s", st)
	}
	inRoom := func(sender, text string) []string {
		return d.deliver(bot.Inbound{Platform: bot.Matrix, EventID: fmt.Sprintf("$r%d", d.seq.Add(1)), Sender: sender,
			Conversation: "!case:localhost", Text: text, Group: true})
	}
	if r := inRoom(alice, "thank you for helping"); len(r) != 0 {
		t.Errorf("the bot answered conversation in the room: %q", r)
	}
	inRoom("@a:localhost", "Hello, I am here to help")
	if n := d.count(`SELECT count(*) FROM cases WHERE first_reply_at > 0`); n != 1 {
		t.Error("the volunteer's first reply was not noted")
	}
	expect(t, inRoom(alice, "!close resolved"), "only the volunteer")
	expect(t, inRoom("@a:localhost", "!close"), "resolved, no-action")
	expect(t, inRoom("@a:localhost", "!close finished"), "resolved, no-action")
	expect(t, inRoom("@a:localhost", "!note prefers evenings"), "Noted")
	expect(t, inRoom("@a:localhost", "!close resolved talked it through"), "is closed")
	expect(t, d.drain(room), "How did it go")
	expect(t, d.send(alice, room, "5"), "Thank you for your feedback")
	expect(t, d.send(alice, room, "!feedback that really helped"), "kept your comment")
	var rating int
	var comment string
	if err := d.st.DB.QueryRow(`SELECT feedback_rating, feedback_comment FROM cases WHERE ref = $1`, ref).Scan(&rating, &comment); err != nil ||
		rating != 5 || d.opened("cases.feedback_comment", comment) != "that really helped" {
		t.Errorf("feedback %d %q %v", rating, comment, err)
	}
	if n := d.count(`SELECT count(*) FROM case_notes`); n != 2 {
		t.Errorf("%d notes", n)
	}
	expect(t, inRoom("@a:localhost", "!note after closing"), "not something you can do")
	stats := d.deliver(bot.Inbound{Platform: bot.Matrix, EventID: "$stats", Sender: staff, Conversation: "!coord:localhost",
		Text: "!stats", Group: true})
	expect(t, stats, "1 request opened, 1 closed", "average 5.0 from 1 rating")
}

func TestTransferAndEscalate(t *testing.T) {
	d := newDesk(t, testenv.NewDB(t))
	a := d.volunteer("@a:localhost", "en", "!on")
	ref := d.intake(alice, room, "none", "en")
	d.send("@a:localhost", a, "!accept")
	acts := d.actions()
	ctx := context.Background()
	if err := d.svc.RoomCreated(ctx, acts[0].Payload.CaseID, "!case:localhost"); err != nil {
		t.Fatal(err)
	}
	if err := d.svc.Joined(ctx, bot.Inbound{Platform: bot.Matrix, EventID: "$j", Sender: "@a:localhost", Conversation: "!case:localhost"}); err != nil {
		t.Fatal(err)
	}
	b := d.volunteer("@b:localhost", "en", "!on")
	d.drain(b)
	r := d.deliver(bot.Inbound{Platform: bot.Matrix, EventID: "$t", Sender: "@a:localhost", Conversation: "!case:localhost", Text: "!transfer need a break", Group: true})
	expect(t, r, "goes back to the queue")
	acts = d.actions()
	// The room keeps only the requester until the next volunteer is invited.
	if len(acts) != 1 || acts[0].Action != bot.ActionMembers || strings.Join(acts[0].Payload.Users, ",") != alice {
		t.Fatalf("transfer actions: %+v", acts)
	}
	if _, who := d.caseState(ref); who != "@b:localhost" {
		t.Fatalf("transferred case offered to %q", who)
	}
	expect(t, d.send("@b:localhost", b, "!accept "+ref), "is yours")
	acts = d.actions()
	if len(acts) != 1 || acts[0].Action != bot.ActionInvite || acts[0].Payload.Room != "!case:localhost" {
		t.Fatalf("the new volunteer must be invited to the same room: %+v", acts)
	}
	if err := d.svc.Joined(ctx, bot.Inbound{Platform: bot.Matrix, EventID: "$j3", Sender: "@b:localhost", Conversation: "!case:localhost"}); err != nil {
		t.Fatal(err)
	}
	expect(t, d.drain("!case:localhost"), "insulting")
	// The old volunteer's commands about it say only that it is not theirs.
	expect(t, d.deliver(bot.Inbound{Platform: bot.Matrix, EventID: "$old", Sender: "@a:localhost", Conversation: "!case:localhost", Text: "!close resolved", Group: true}), "not something you can do")

	d.drain(staffRoom)
	expect(t, d.deliver(bot.Inbound{Platform: bot.Matrix, EventID: "$e", Sender: "@b:localhost", Conversation: "!case:localhost", Text: "!escalate", Group: true}), "passed to staff")
	acts = d.actions()
	if len(acts) != 1 || acts[0].Action != bot.ActionMembers || acts[0].Payload.Room != "!case:localhost" ||
		strings.Join(acts[0].Payload.Users, ",") != alice {
		t.Fatalf("escalate actions: %+v", acts)
	}
	expect(t, d.drain(staffRoom), ref)
	expect(t, d.drain(room), "passed to Wikimedia Foundation staff")
	if st, _ := d.caseState(ref); st != "staff" {
		t.Fatalf("state %s", st)
	}
	expect(t, d.deliver(bot.Inbound{Platform: bot.Matrix, EventID: "$escalated-note", Sender: "@b:localhost", Conversation: "!case:localhost", Text: "!note more", Group: true}), "not something you can do")
	// What the volunteer hears does not say where the case went.
	expect(t, d.send("@b:localhost", b, "!accept "+ref), "no longer waiting for a volunteer")
}

func TestCoordinatorsRoom(t *testing.T) {
	d := newDesk(t, testenv.NewDB(t))
	d.cfg.Coordinators = []string{"@coord:localhost"}
	d.svc = bot.NewService(d.st, mustCatalogue(t), d.cfg, nil, zerolog.Nop(), func() time.Time { return time.UnixMilli(d.clock.Load()) })
	const coordRoom = "!coord:localhost"
	inRoom := func(sender, text string) []string {
		return d.deliver(bot.Inbound{Platform: bot.Matrix, EventID: fmt.Sprintf("$c%d", d.seq.Add(1)), Sender: sender,
			Conversation: coordRoom, Text: text, Group: true})
	}
	expect(t, inRoom("@coord:localhost", "!queue"), "No request is waiting")
	expect(t, inRoom("@coord:localhost", "!coverage"), "No volunteer has a shift")
	ref := d.intake(alice, room, "none", "en")
	// A staff-route case never shows to coordinators.
	d.send("@bob:localhost", "!dm-bob:localhost", "hi")
	d.send("@bob:localhost", "!dm-bob:localhost", "yes")
	d.advance(12 * time.Minute)
	q := inRoom("@coord:localhost", "!queue")
	expect(t, q, "1 request is waiting", ref+" (en): waiting 12 min, queued")
	if has(q, "SB-") && strings.Count(strings.Join(q, ""), "SB-") != 1 {
		t.Errorf("the queue shows more than the one volunteer-route case: %q", q)
	}
	if r := inRoom("@someone:localhost", "!queue"); len(r) != 0 {
		t.Errorf("a non-coordinator was answered: %q", r)
	}
	expect(t, inRoom("@coord:localhost", "!stats 1y"), "!stats 30d")
	expect(t, inRoom("@coord:localhost", "!frob"), "do not know the command !frob")
	// The queue alert fires after 30 minutes, with reference and wait only.
	d.advance(20 * time.Minute)
	if _, err := d.svc.FireDueTimers(context.Background()); err != nil {
		t.Fatal(err)
	}
	alert := d.drain(coordRoom)
	expect(t, alert, ref, "32 minutes")
	if has(alert, "insulting") || has(alert, alice) {
		t.Errorf("the alert leaks content: %q", alert)
	}
	if r := d.drain(room); has(r, "still waiting") {
		t.Error("reassured too early")
	}
	d.advance(90 * time.Minute)
	if _, err := d.svc.FireDueTimers(context.Background()); err != nil {
		t.Fatal(err)
	}
	expect(t, d.drain(room), "still waiting", ref)
}

// Broadcast mode: the case is announced in the volunteers' room and the first eligible
// volunteer to accept wins; two at once, exactly one.
func TestBroadcastFirstAcceptWins(t *testing.T) {
	d := newDesk(t, testenv.NewDB(t))
	d.cfg.Broadcast, d.cfg.VolunteersConversation = true, "!volunteers:localhost"
	d.svc = bot.NewService(d.st, mustCatalogue(t), d.cfg, nil, zerolog.Nop(), func() time.Time { return time.UnixMilli(d.clock.Load()) })
	d.volunteer("@a:localhost", "en", "!on")
	d.volunteer("@b:localhost", "en", "!on")
	d.volunteer("@c:localhost", "de", "!on")
	ref := d.intake(alice, room, "none", "en")
	ann := d.drain("!volunteers:localhost")
	expect(t, ann, ref, "!accept "+ref)
	if has(ann, "insulting") || has(ann, alice) {
		t.Errorf("the announcement leaks content: %q", ann)
	}
	inRoom := func(sender, text string) []string {
		return d.deliver(bot.Inbound{Platform: bot.Matrix, EventID: fmt.Sprintf("$v%d", d.seq.Add(1)), Sender: sender,
			Conversation: "!volunteers:localhost", Text: text, Group: true})
	}
	expect(t, inRoom("@c:localhost", "!accept "+ref), "does not fit your settings")
	if r := inRoom("@stranger:localhost", "!accept "+ref); len(r) != 0 {
		t.Errorf("someone not on the roster was answered: %q", r)
	}
	var wg sync.WaitGroup
	for _, v := range []string{"@a:localhost", "@b:localhost"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			in := bot.Inbound{Platform: bot.Matrix, EventID: "$acc" + v, Sender: v, Conversation: "!volunteers:localhost",
				Text: "!accept " + ref, Group: true, Device: bot.DeviceVerified}
			if err := d.svc.Handle(context.Background(), in); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	r := d.drain("!volunteers:localhost")
	won, lost := 0, 0
	for _, m := range r {
		won += strings.Count(m, "is yours")
		lost += strings.Count(m, "no longer waiting for a volunteer")
	}
	if won != 1 || lost != 1 {
		t.Fatalf("%d won, %d lost: %q", won, lost, r)
	}
	if st, who := d.caseState(ref); st != "accepted" || (who != "@a:localhost" && who != "@b:localhost") {
		t.Fatalf("case %s with %q", st, who)
	}
}

// A 👍 or 👎 on the offer answers it; a requester's reactions change nothing.
func TestReactionsAnswerOffers(t *testing.T) {
	d := newDesk(t, testenv.NewDB(t))
	a := d.volunteer("@a:localhost", "en", "!on")
	b := d.volunteer("@b:localhost", "en", "!on")
	ref := d.intake(alice, room, "none", "en")
	react := func(sender, conv, what string) []string {
		return d.deliver(bot.Inbound{Platform: bot.Matrix, EventID: fmt.Sprintf("$re%d", d.seq.Add(1)), Sender: sender,
			Conversation: conv, Kind: bot.KindReaction, Text: what})
	}
	if r := react(alice, room, bot.ReactAccept); len(r) != 0 {
		t.Errorf("a requester's reaction was answered: %q", r)
	}
	expect(t, react("@a:localhost", a, bot.ReactDecline), "goes to someone else")
	expect(t, react("@b:localhost", b, bot.ReactAccept), "is yours")
	if st, who := d.caseState(ref); st != "accepted" || who != "@b:localhost" {
		t.Fatalf("%s %s", st, who)
	}
}

// The relay between an IRC requester and the Matrix case room, both ways; nothing of
// it is stored.
func TestRelayForIRCRequester(t *testing.T) {
	d := newDesk(t, testenv.NewDB(t))
	a := d.volunteer("@a:localhost", "en", "!on")
	irc := func(text string) []string {
		return d.deliver(bot.Inbound{Platform: bot.IRC, EventID: fmt.Sprintf("irc%d", d.seq.Add(1)), Sender: "carol",
			Conversation: "carol", Text: text})
	}
	for _, s := range []string{"hello", "no", "no", "no", "no", "Someone insults me on talk pages", "none", "en.wikipedia.org", "en"} {
		irc(s)
	}
	expect(t, irc("yes"), "Your request is open")
	d.send("@a:localhost", a, "!accept")
	acts := d.actions()
	if len(acts) != 1 || strings.Join(acts[0].Payload.Users, ",") != "@a:localhost" {
		t.Fatalf("an IRC requester's room has the volunteer only: %+v", acts)
	}
	ctx := context.Background()
	if err := d.svc.RoomCreated(ctx, acts[0].Payload.CaseID, "!relay:localhost"); err != nil {
		t.Fatal(err)
	}
	if err := d.svc.Joined(ctx, bot.Inbound{Platform: bot.Matrix, EventID: "$rj", Sender: "@a:localhost", Conversation: "!relay:localhost"}); err != nil {
		t.Fatal(err)
	}
	expect(t, d.drain("!relay:localhost"), "insults me", "appear here marked (IRC)")
	d.drain("carol")
	additions := d.count(`SELECT count(*) FROM case_additions`)
	if r := irc("Thank you, it happened again today"); len(r) != 0 {
		t.Errorf("a relayed message got an answer on IRC: %q", r)
	}
	expect(t, d.drain("!relay:localhost"), "carol (IRC): Thank you, it happened again today")
	if n := d.count(`SELECT count(*) FROM case_additions`); n != additions {
		t.Error("a relayed message was stored")
	}
	d.deliver(bot.Inbound{Platform: bot.Matrix, EventID: "$rv", Sender: "@a:localhost", SenderName: "Ana (volunteer)",
		Conversation: "!relay:localhost", Text: "I am sorry to hear that. Which page?"})
	toCarol := d.drain("carol")
	expect(t, toCarol, "Helper ", ": I am sorry to hear that. Which page?")
	if strings.Contains(strings.Join(toCarol, "\n"), "Ana") {
		t.Errorf("the helper's display name reached the IRC requester: %q", toCarol)
	}
	// Commands still work from both sides.
	expect(t, irc("!status"), "I pass your messages on")
	if err := d.svc.RequesterPresence(ctx, bot.IRC, "carol", false); err != nil {
		t.Fatal(err)
	}
	expect(t, d.drain("!relay:localhost"), "gone offline on IRC")
	expect(t, d.deliver(bot.Inbound{Platform: bot.Matrix, EventID: "$rc", Sender: "@a:localhost",
		Conversation: "!relay:localhost", Text: "!close resolved"}), "is closed")
	expect(t, d.drain("carol"), "How did it go")
}

// An offer left to expire does not shut its volunteer out for good: others who fit
// come first, but when nobody else can take the case, it comes back to them once the
// offer's own time has passed again (the simulator found cases waiting all night for
// the only volunteer on duty, who had once missed the offer).
func TestExpiredOfferComesBack(t *testing.T) {
	d := newDesk(t, testenv.NewDB(t))
	expiry := d.cfg.OfferExpiry
	a := d.volunteer("@a:localhost", "en", "!on")
	ref := d.intake(alice, room, "none", "en")
	if _, who := d.caseState(ref); who != "@a:localhost" {
		t.Fatalf("first offer to %q", who)
	}
	d.drain(a)
	sweep := func(after time.Duration) {
		t.Helper()
		d.advance(after)
		if _, err := d.svc.FireDueTimers(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := d.svc.RouteWaiting(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	sweep(expiry + time.Second)
	expect(t, d.drain(a), "has expired")
	if st, who := d.caseState(ref); st != "queued" || who != "" {
		t.Fatalf("just expired: %s %q; want it queued, not back to the one who missed it", st, who)
	}
	sweep(expiry / 2)
	if st, _ := d.caseState(ref); st != "queued" {
		t.Fatalf("offered again before its time: %s", st)
	}
	sweep(expiry/2 + time.Second)
	if st, who := d.caseState(ref); st != "offered" || who != "@a:localhost" {
		t.Fatalf("nobody else on duty: %s %q; want it offered to @a again", st, who)
	}
	expect(t, d.drain(a), ref, "!accept")
	// A declined offer still shuts the volunteer out for good.
	expect(t, d.send("@a:localhost", a, "!decline"), "goes to someone else")
	sweep(3 * expiry)
	if st, who := d.caseState(ref); st != "queued" || who != "" {
		t.Fatalf("after a decline: %s %q", st, who)
	}
	// Someone who never had it comes before someone who let it expire. The second
	// volunteer is on duty in German only; once the cool-down has passed (with no
	// sweep), they add English, and the routing that starts finds both.
	ref2 := d.intake("@bob:localhost", "!dm-bob:localhost", "none", "en")
	d.drain(a)
	sweep(expiry + time.Second)
	b := d.volunteer("@b:localhost", "de", "!limit 3", "!on")
	d.advance(expiry + time.Second)
	expect(t, d.send("@b:localhost", b, "!languages en de"), "en de")
	if _, who := d.caseState(ref2); who != "@b:localhost" {
		t.Fatalf("ref2 offered to %q; want @b, who never had it", who)
	}
}
