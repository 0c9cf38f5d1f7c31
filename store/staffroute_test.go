package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"switchboard/bot"
	"switchboard/internal/testenv"
)

func (d *desk) reconfigure(change func(*bot.Config)) {
	change(&d.cfg)
	d.svc = bot.NewService(d.st, mustCatalogue(d.t.(*testing.T)), d.cfg, nil, zerolog.Nop(), func() time.Time { return time.UnixMilli(d.clock.Load()) })
}

// staffCase walks a requester to the first "yes" and returns the staff case reference.
func (d *desk) staffCase(who, conv string) string {
	d.t.Helper()
	d.send(who, conv, "hello")
	expect(d.t, d.send(who, conv, "yes"), "emergency@wikimedia.org")
	var ref string
	if err := d.st.DB.Get(&ref, `SELECT c.ref FROM cases c JOIN people p ON p.id = c.person_id
		WHERE p.external_id = $1 AND c.route = 'staff' ORDER BY c.id DESC LIMIT 1`, who); err != nil {
		d.t.Fatal(err)
	}
	return ref
}

// pages takes the pages out of the outbox and lists who was paged in the staff room
// (by mention) and through the pager; rows are the pages themselves.
func (d *desk) pages() (mentions, pager []string, rows []bot.Outgoing) {
	d.t.Helper()
	for _, p := range []bot.Platform{bot.Matrix, bot.Pager} {
		msgs, err := d.st.PendingOutbox(context.Background(), p, 0, 1000)
		if err != nil {
			d.t.Fatal(err)
		}
		for _, m := range msgs {
			switch {
			case m.Platform == bot.Matrix && len(m.Mentions) > 0:
				mentions = append(mentions, m.Mentions...)
			case m.Platform == bot.Pager && m.Action == bot.ActionPage:
				pager = append(pager, m.Conversation)
			default:
				continue
			}
			rows = append(rows, m)
			if err := d.st.OutboxSent(context.Background(), m.ID); err != nil {
				d.t.Fatal(err)
			}
		}
	}
	return
}

// followUps takes the pager's acknowledge and resolve rows out of the outbox.
func (d *desk) followUps() string {
	d.t.Helper()
	msgs, err := d.st.PendingOutbox(context.Background(), bot.Pager, 0, 1000)
	if err != nil {
		d.t.Fatal(err)
	}
	var out []string
	for _, m := range msgs {
		if m.Action == bot.ActionPageAck || m.Action == bot.ActionPageResolve {
			out = append(out, string(m.Action)+" "+m.Conversation+" "+m.Payload.Ref)
			if err := d.st.OutboxSent(context.Background(), m.ID); err != nil {
				d.t.Fatal(err)
			}
		}
	}
	return strings.Join(out, ",")
}

func TestPagingChainAndAck(t *testing.T) {
	d := newDesk(t, testenv.NewDB(t))
	d.reconfigure(func(c *bot.Config) {
		c.Staff = []string{staff, "@s1:localhost", "@s2:localhost"}
		c.OnCall, c.AckTimeout, c.MaxRounds, c.Pager = []string{"@s1:localhost", "@s2:localhost"}, 5*time.Minute, 2, true
	})
	ref := d.staffCase(alice, room)
	m, p, _ := d.pages()
	if strings.Join(m, ",") != "@s1:localhost" || strings.Join(p, ",") != "@s1:localhost" {
		t.Fatalf("first page: mentions %v pager %v", m, p)
	}
	// While staff are paged, the requester tells what happened: every page from now
	// on is about a case that holds her story.
	const secret, party = "My neighbour Jane Secretname insults me daily", "Harasser_Wikiname"
	for _, a := range []string{"no", "no", "no", secret, party, "en.wikipedia.org", "en", "yes"} {
		d.send(alice, room, a)
	}
	if d.opened("cases.description", d.str(`SELECT description FROM cases WHERE ref = $1`, ref)) != secret {
		t.Fatal("the staff case does not hold the story")
	}
	fire := func() {
		t.Helper()
		d.advance(6 * time.Minute)
		if _, err := d.svc.FireDueTimers(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	var paged []string
	fire()
	m, p, rows := d.pages()
	if strings.Join(m, ",") != "@s2:localhost" || strings.Join(p, ",") != "@s2:localhost" {
		t.Fatalf("second page: mentions %v pager %v", m, p)
	}
	for _, r := range rows {
		paged = append(paged, shown(r))
	}
	fire()
	if m, p, rows = d.pages(); strings.Join(m, ",") != "@s1:localhost" || strings.Join(p, ",") != "@s1:localhost" {
		var ev []string
		if err := d.st.DB.Select(&ev, `SELECT kind || ' ' || subject || ' ' || detail::text FROM case_events ORDER BY id`); err != nil {
			t.Fatal(err)
		}
		var tm []string
		if err := d.st.DB.Select(&tm, `SELECT kind || ' ' || due_at FROM timers`); err != nil {
			t.Fatal(err)
		}
		t.Fatalf("round two starts at the top: %v %v\n%s\n%v now %d", m, p, strings.Join(ev, "\n"), tm, d.clock.Load())
	}
	for _, r := range rows {
		paged = append(paged, shown(r))
	}
	// The pages say the reference and where to act, nothing of the case.
	paged = append(paged, d.drain(staffRoom)...)
	if len(paged) < 4 {
		t.Fatalf("want two mentions and two pager rows to look at, got %q", paged)
	}
	expectNone(t, paged, secret, "Secretname", "insults", "Harasser", "Wikiname", alice)
	expect(t, d.send("@s2:localhost", staffRoom, "!ack "+strings.ToLower(ref)), "is with @s2:localhost", "Paging has stopped")
	expect(t, d.send("@s1:localhost", staffRoom, "!ack "+ref), "already acknowledged by @s2:localhost")
	fire()
	if m, p, _ := d.pages(); len(m)+len(p) != 0 {
		t.Errorf("paging went on after !ack: %v %v", m, p)
	}
	acts := d.actions()
	if len(acts) != 1 || acts[0].Action != bot.ActionCreateRoom || strings.Join(acts[0].Payload.Users, ",") != "@s2:localhost,"+alice {
		t.Fatalf("staff room: %+v", acts)
	}
	ctx := context.Background()
	if err := d.svc.RoomCreated(ctx, acts[0].Payload.CaseID, "!staffcase:localhost"); err != nil {
		t.Fatal(err)
	}
	if err := d.svc.Joined(ctx, bot.Inbound{Platform: bot.Matrix, EventID: "$sj", Sender: "@s2:localhost", Conversation: "!staffcase:localhost"}); err != nil {
		t.Fatal(err)
	}
	summary := d.drain("!staffcase:localhost")
	// The room's help is for staff: no !escalate, which would only answer that the
	// case is with staff already.
	expect(t, summary, ref, "Commands here, for staff")
	expectNone(t, summary, "for the volunteer", "!escalate")
	if n := d.count(`SELECT count(*) FROM case_events WHERE kind = 'paged'`); n != 3 {
		t.Errorf("%d paged events", n)
	}
	if n := d.count(`SELECT count(*) FROM case_events WHERE kind = 'acked' AND actor = '@s2:localhost'`); n != 1 {
		t.Error("the ack is not audited")
	}
	// Everyone paged hears through their on-call tool that it was acknowledged, and
	// that it is over when the case closes, so the tool stops escalating by itself.
	if got := d.followUps(); got != "page_ack @s1:localhost "+ref+",page_ack @s2:localhost "+ref {
		t.Errorf("follow-ups after !ack: %q", got)
	}
	expect(t, d.send("@s2:localhost", "!staffcase:localhost", "!close resolved"), "closed")
	if got := d.followUps(); got != "page_resolve @s1:localhost "+ref+",page_resolve @s2:localhost "+ref {
		t.Errorf("follow-ups after !close: %q", got)
	}
	// Exhaustion: a second case nobody acknowledges.
	ref2 := d.staffCase("@carol:localhost", "!dm-carol:localhost")
	d.pages()
	for range 4 {
		fire()
	}
	expect(t, d.drain(staffRoom), "Nobody acknowledged", ref2)
}

// A staff-route case withdrawn by its requester stops paging, and the on-call tool's
// incident is resolved with it.
func TestWithdrawnStaffCaseResolvesThePage(t *testing.T) {
	d := newDesk(t, testenv.NewDB(t))
	d.reconfigure(func(c *bot.Config) {
		c.Staff = []string{staff, "@s1:localhost"}
		c.OnCall, c.AckTimeout, c.MaxRounds, c.Pager = []string{"@s1:localhost"}, 5*time.Minute, 2, true
	})
	ref := d.staffCase(alice, room)
	if _, p, _ := d.pages(); strings.Join(p, ",") != "@s1:localhost" {
		t.Fatalf("paged: %v", p)
	}
	expect(t, d.send(alice, room, "!cancel"), "withdrawn")
	if got := d.followUps(); got != "page_resolve @s1:localhost "+ref {
		t.Errorf("follow-ups after !cancel: %q", got)
	}
}

func TestRotation(t *testing.T) {
	d := newDesk(t, testenv.NewDB(t))
	start := time.UnixMilli(d.clock.Load()).Add(-8 * 24 * time.Hour) // one week and a day ago
	d.reconfigure(func(c *bot.Config) {
		c.OnCall, c.RotationStart, c.RotationPeriod = []string{"@s1:localhost", "@s2:localhost", "@s3:localhost"}, start, 7*24*time.Hour
	})
	d.staffCase(alice, room)
	if m, _, _ := d.pages(); strings.Join(m, ",") != "@s2:localhost" {
		t.Fatalf("second week's primary: %v", m)
	}
}

func TestBlocks(t *testing.T) {
	d := newDesk(t, testenv.NewDB(t))
	expect(t, d.send(staff, staffRoom, "!block @troll:localhost 30d pretends to be a victim"), "is blocked")
	expect(t, d.send(staff, staffRoom, "!block notanid"), "!block @user:server")
	expect(t, d.send(staff, staffRoom, "!block irc:Troll2"), "is blocked")
	r := d.send("@troll:localhost", "!dm-troll:localhost", "help me, someone is harassing me")
	expect(t, r, "cannot take requests from this account")
	if n := d.count(`SELECT count(*) FROM intakes`) + d.count(`SELECT count(*) FROM people WHERE external_id = '@troll:localhost'`); n != 0 {
		t.Error("a blocked person created something")
	}
	expect(t, d.send(staff, staffRoom, "!blocks"), "@troll:localhost until", "pretends to be a victim", "irc:Troll2")
	expect(t, d.send(staff, staffRoom, "!unblock @troll:localhost"), "no longer blocked")
	expect(t, d.send(staff, staffRoom, "!unblock @troll:localhost"), "was not blocked")
	expect(t, d.send("@troll:localhost", "!dm-troll:localhost", "hello"), "1 of 4")
	// A timed block ends by itself.
	d.send(staff, staffRoom, "!block @brief:localhost 1h")
	d.advance(2 * time.Hour)
	expect(t, d.send("@brief:localhost", "!dm-brief:localhost", "hello"), "1 of 4")
	// Volunteers cannot block.
	v := d.volunteer("@v:localhost", "en")
	expect(t, d.send("@v:localhost", v, "!block @x:localhost"), "do not know the command !block")
}

func TestIntakeLimits(t *testing.T) {
	d := newDesk(t, testenv.NewDB(t))
	d.reconfigure(func(c *bot.Config) { c.IntakesPerDay = 2 })
	for range 2 {
		expect(t, d.send(alice, room, "hello"), "1 of 4")
		expect(t, d.send(alice, room, "!cancel"), "withdrawn")
	}
	expect(t, d.send(alice, room, "hello"), "several requests today")
	if n := d.count(`SELECT count(*) FROM intakes`); n != 2 {
		t.Errorf("%d intakes", n)
	}
	d.advance(25 * time.Hour)
	expect(t, d.send(alice, room, "hello"), "1 of 4")
}

// A flood of new requesters: everyone gets an answer at once, those over the rate a
// calm "busy" and a place in line, and the line is worked through in order.
func TestFloodGetsBusyAnswerAndLine(t *testing.T) {
	d := newDesk(t, testenv.NewDB(t))
	d.reconfigure(func(c *bot.Config) { c.IntakeRate, c.IntakeBurst = 60, 20 })
	const n = 500 // new requesters within one (simulated) minute
	for i := range n {
		if i%50 == 0 {
			d.advance(6 * time.Second)
		}
		r := d.send(fmt.Sprintf("@p%d:localhost", i), fmt.Sprintf("!dm-p%d:localhost", i), "please help")
		if !has(r, "1 of 4") && !has(r, "very busy") {
			t.Fatalf("requester %d got %q", i, r)
		}
	}
	expect(t, d.send("@p499:localhost", "!dm-p499:localhost", "hello?"), "You are in line")
	waiting := d.count(`SELECT count(*) FROM intake_waitlist`)
	if started := d.count(`SELECT count(*) FROM intakes`); started+waiting != n || waiting < n-100 {
		t.Fatalf("%d started, %d waiting, of %d", started, waiting, n)
	}
	// The line is worked through at the rate, oldest first, and nobody is lost; the
	// first words of whoever's intake has started are no longer kept in the line.
	keptAfterStart := func() int {
		return d.count(`SELECT count(*) FROM intake_waitlist w JOIN people p ON p.platform = w.platform
			AND p.external_id = w.sender JOIN intakes i ON i.person_id = p.id`)
	}
	line := func() []string {
		var senders []string
		if err := d.st.DB.Select(&senders, `SELECT sender FROM intake_waitlist ORDER BY id`); err != nil {
			t.Fatal(err)
		}
		return senders
	}
	checkedMidway := 0
	for step := 0; d.count(`SELECT count(*) FROM intake_waitlist`) > 0; step++ {
		if step > 60 { // the burst (20) caps what one pass can start
			t.Fatal("the line does not drain")
		}
		before := line()
		d.advance(time.Minute)
		started, err := d.svc.DrainWaitlist(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if started == 0 {
			t.Fatalf("pass %d started no waiting intake", step)
		}
		if n := keptAfterStart(); n != 0 {
			t.Fatalf("after pass %d, %d people with an intake are still in the line", step, n)
		}
		if after := line(); strings.Join(after, ",") != strings.Join(before[min(started, len(before)):], ",") {
			t.Fatalf("pass %d started %d, but not the oldest: %d waited, %d wait", step, started, len(before), len(after))
		}
		if d.count(`SELECT count(*) FROM intake_waitlist`) > 0 {
			checkedMidway++
		}
	}
	if checkedMidway == 0 {
		t.Error("the line emptied in one pass: nothing was checked while people still waited")
	}
	if k := d.count(`SELECT count(*) FROM intakes`); k != n {
		t.Errorf("%d intakes for %d people", k, n)
	}
	expect(t, d.drain("!dm-p499:localhost"), "1 of 4")
}

// Cross-case links, both directions, told to staff only.
func TestCrossCaseLinks(t *testing.T) {
	d := newDesk(t, testenv.NewDB(t))
	refA := d.intake("@victim_one:localhost", "!dm-victim:localhost", "Harasser X", "en")
	d.drain(staffRoom)
	// The "harasser" now asks for help and names the first requester.
	refB := d.intake("@harasser_x:localhost", "!dm-harasser:localhost", "Victim one", "en")
	notes := d.drain(staffRoom)
	expect(t, notes, "the requester of "+refB+" is named as a party in "+refA, refB+" names the requester of "+refA)
	if strings.Count(strings.Join(notes, ""), "Cross-case link") != 2 {
		t.Errorf("want two links (both directions), got %q", notes)
	}
	if n := d.count(`SELECT count(*) FROM case_links`); n != 2 {
		t.Errorf("%d links", n)
	}
	for _, conv := range []string{"!dm-victim:localhost", "!dm-harasser:localhost", "!coord:localhost"} {
		for _, m := range d.drain(conv) {
			if strings.Contains(m, "Cross-case") {
				t.Errorf("a link was shown outside the staff room: %q", m)
			}
		}
	}
}

func TestAudit(t *testing.T) {
	d := newDesk(t, testenv.NewDB(t))
	a := d.volunteer("@a:localhost", "en", "!on")
	ref := d.intake(alice, room, "none", "en")
	d.send("@a:localhost", a, "!accept")
	r := d.send(staff, staffRoom, "!audit "+ref)
	expect(t, r, "Event log of "+ref, "intake_started", "case_opened", "offered", "accepted")
	if has(r, "insulting") {
		t.Error("the audit log shows what the requester wrote")
	}
	expect(t, d.send(staff, staffRoom, "!audit @a:localhost"), "volunteer_added", "duty_on", "accepted")
	expect(t, d.send(staff, staffRoom, "!audit SB-ZZZZZ"), "There is no case")
	expect(t, d.send("@a:localhost", a, "!audit "+ref), "do not know the command !audit")
}

// Paging never gives up on a safety case: once the rounds one by one found nobody,
// everyone on call is paged together every RepageEvery until someone acknowledges.
// (The simulator found 7 of 13 safety cases of a week with one person on call never
// acknowledged when paging stopped after the last round.)
func TestPagingNeverGivesUp(t *testing.T) {
	d := newDesk(t, testenv.NewDB(t))
	s1, s2 := "@s1:localhost", "@s2:localhost"
	d.reconfigure(func(c *bot.Config) {
		c.Staff = []string{staff, s1, s2}
		c.OnCall, c.AckTimeout, c.MaxRounds, c.RepageEvery, c.Pager = []string{s1, s2}, 5*time.Minute, 1, 30*time.Minute, true
	})
	ref := d.staffCase(alice, room)
	fire := func(after time.Duration) (mentions, pager []string) {
		t.Helper()
		d.advance(after)
		if _, err := d.svc.FireDueTimers(context.Background()); err != nil {
			t.Fatal(err)
		}
		m, p, _ := d.pages()
		return m, p
	}
	d.pages()
	if m, _ := fire(5 * time.Minute); strings.Join(m, ",") != s2 {
		t.Fatalf("second in the chain: %v", m)
	}
	d.drain(staffRoom)
	// The one round is over: staff are told, and both are paged at once.
	m, p := fire(5 * time.Minute)
	if strings.Join(m, ",") != s1+","+s2 || strings.Join(p, ",") != s1+","+s2 {
		t.Fatalf("after the last round: mentions %v pager %v", m, p)
	}
	expect(t, d.drain(staffRoom), "Nobody acknowledged", ref, "every 30 minutes")
	// Nothing before RepageEvery, then everyone again, and again.
	if m, p := fire(29 * time.Minute); len(m)+len(p) != 0 {
		t.Fatalf("paged before 30 minutes: %v %v", m, p)
	}
	for i := range 3 {
		if m, p := fire(time.Minute + time.Duration(i)*29*time.Minute); strings.Join(m, ",") != s1+","+s2 || len(p) != 2 {
			t.Fatalf("repage %d: mentions %v pager %v", i+1, m, p)
		}
	}
	if n := d.count(`SELECT count(*) FROM case_events WHERE kind = 'paging_exhausted'`); n != 1 {
		t.Errorf("%d paging_exhausted events; want 1", n)
	}
	expect(t, d.send(s1, staffRoom, "!ack "+ref), "is with "+s1)
	if m, p := fire(31 * time.Minute); len(m)+len(p) != 0 {
		t.Errorf("paging went on after !ack: %v %v", m, p)
	}
	if n := d.count(`SELECT count(*) FROM timers WHERE kind = 'page_ack'`); n != 0 {
		t.Errorf("%d page_ack timers left after !ack", n)
	}
}

// RepageEvery 0 keeps the old end: staff are told once, and paging stops.
func TestPagingStopsWithoutRepage(t *testing.T) {
	d := newDesk(t, testenv.NewDB(t))
	d.reconfigure(func(c *bot.Config) {
		c.Staff = []string{staff, "@s1:localhost"}
		c.OnCall, c.AckTimeout, c.MaxRounds, c.RepageEvery = []string{"@s1:localhost"}, 5*time.Minute, 1, 0
	})
	ref := d.staffCase(alice, room)
	d.pages()
	d.advance(5 * time.Minute)
	if _, err := d.svc.FireDueTimers(context.Background()); err != nil {
		t.Fatal(err)
	}
	out := d.drain(staffRoom)
	expect(t, out, "Nobody acknowledged", ref)
	expectNone(t, out, "every")
	if m, p, _ := d.pages(); len(m)+len(p) != 0 {
		t.Errorf("paged after the last round: %v %v", m, p)
	}
	if n := d.count(`SELECT count(*) FROM timers WHERE kind = 'page_ack'`); n != 0 {
		t.Errorf("%d page_ack timers left", n)
	}
}
