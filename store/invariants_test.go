package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"switchboard/bot"
	"switchboard/internal/testenv"
)

// TestLifecycleInvariants drives the real core on the real PostgreSQL through random
// scenarios (requesters, volunteers with a trainee and mentor, staff, a coordinator, a
// stranger; restarts of the bot and hours passing between turns), with a simulated
// bridge that carries out the room actions, and checks after every step that no one
// falls through:
//
//   - every text a requester sends is answered, or relayed into the room of whoever
//     works their case, or read there by them;
//   - every summary a handler gets holds everything the requester added;
//   - every member of a case room is the requester, a current worker or the bot;
//   - no volunteer, trainee or coordinator is sent the reference of a staff-route case,
//     and a requester's chat with the bot never shows a helper's account;
//   - every open case has an owner or an armed timer that leads to one, and every
//     queued requester a reassurance;
//   - a case has at most one open offer, and is never offered to or held by a volunteer
//     it names or who declared a conflict with its parties.
//
// A failure prints the seed and the steps so far; SWITCHBOARD_SEED=N replays one seed.
// CI runs the fixed seeds below; `make soak` runs random ones (SWITCHBOARD_SOAK=10m).
func TestLifecycleInvariants(t *testing.T) {
	seeds := []uint64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	steps := 150
	if s := os.Getenv("SWITCHBOARD_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		seeds = []uint64{n}
	}
	if s := os.Getenv("SWITCHBOARD_STEPS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatal(err)
		}
		steps = n
	}
	var deadline time.Time
	if s := os.Getenv("SWITCHBOARD_SOAK"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatal(err)
		}
		deadline = time.Now().Add(d)
		seeds = nil
	}
	total := simTotals{}
	run := func(seed uint64) {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			s := newSim(t, seed)
			for range steps {
				s.step()
				if t.Failed() {
					t.Logf("replay: SWITCHBOARD_SEED=%d go test -tags goolm ./store/ -run TestLifecycleInvariants\nsteps:\n%s",
						seed, strings.Join(s.log, "\n"))
					return
				}
			}
			total.add(s)
		})
	}
	for _, seed := range seeds {
		run(seed)
	}
	for seed := uint64(time.Now().UnixNano()); !deadline.IsZero() && time.Now().Before(deadline); seed++ {
		run(seed)
	}
	t.Logf("%d scenarios, %d steps, %d requester texts followed, %d summaries, %d invariant checks",
		total.scenarios, total.steps, total.texts, total.summaries, total.checks)
}

type simTotals struct{ scenarios, steps, texts, summaries, checks int }

func (t *simTotals) add(s *sim) {
	t.scenarios++
	t.steps += len(s.log)
	t.texts += s.texts
	t.summaries += s.summaries
	t.checks += s.checks
}

// simRequester is someone asking for help, on Matrix (a DM room) or IRC (a nick).
type simRequester struct {
	id, conv string
	platform bot.Platform
}

type sim struct {
	t      *testing.T
	d      *desk
	rng    *rand.Rand
	log    []string
	marker int

	requesters []simRequester
	volunteers []string
	dm         map[string]string // a volunteer's DM room
	staff      []string
	// rooms are the case rooms the simulated bridge made: who is in each, and how.
	rooms   map[string]map[string]string // room -> user -> "invite" | "join"
	roomSeq int

	texts, summaries, checks int
}

const (
	coordinator = "@coord:localhost"
	volRoom     = "!vols:localhost"
	stranger    = "@stranger:localhost"
)

func newSim(t *testing.T, seed uint64) *sim {
	d := newDesk(t, testenv.NewDB(t))
	s := &sim{t: t, d: d, rng: rand.New(rand.NewPCG(seed, seed^0x5b)), dm: map[string]string{},
		rooms: map[string]map[string]string{}, staff: []string{staff, "@staff2:localhost"}}
	d.reconfigure(func(c *bot.Config) {
		c.SharedRooms = seed%2 == 0 // odd seeds: relayed case rooms, even: shared
		c.Staff = s.staff
		c.OnCall = s.staff
		c.MaxRounds = 2
		c.Coordinators = []string{coordinator}
	})
	for _, v := range []string{"@va:localhost", "@vb:localhost", "@vc:localhost"} {
		s.dm[v] = d.volunteer(v, "en", "!on", "!limit 2")
		s.volunteers = append(s.volunteers, v)
	}
	s.dm["@vt:localhost"] = d.trainee("@vt:localhost", "@va:localhost")
	s.volunteers = append(s.volunteers, "@vt:localhost")
	expect(t, d.send("@vb:localhost", s.dm["@vb:localhost"], "!conflict add Harasser"), "will not be offered")
	for i := range 6 {
		r := simRequester{id: fmt.Sprintf("@r%d:localhost", i), conv: fmt.Sprintf("!dm-r%d:localhost", i), platform: bot.Matrix}
		if i >= 4 {
			r = simRequester{id: fmt.Sprintf("r%dacct", i), conv: fmt.Sprintf("r%dnick", i), platform: bot.IRC}
		}
		s.requesters = append(s.requesters, r)
	}
	d.drainAll()
	return s
}

func (s *sim) pick(n int) int { return s.rng.IntN(n) }

func (s *sim) chance(p float64) bool { return s.rng.Float64() < p }

func (s *sim) note(format string, args ...any) { s.log = append(s.log, fmt.Sprintf(format, args...)) }

// step does one random thing, carries out what the bot sent, and checks the invariants.
func (s *sim) step() {
	switch x := s.pick(100); {
	case x < 45:
		s.requesterStep(s.requesters[s.pick(len(s.requesters))])
	case x < 65:
		s.volunteerStep(s.volunteers[s.pick(len(s.volunteers))])
	case x < 75:
		s.staffStep()
	case x < 85:
		s.joinStep()
	case x < 95:
		dur := time.Duration(1+s.pick(40)) * time.Minute
		s.note("time passes: %v", dur)
		s.d.advance(dur)
		for {
			n, err := s.d.svc.FireDueTimers(context.Background())
			if err != nil {
				s.t.Fatal(err)
			}
			if n == 0 {
				break
			}
		}
		s.deliver(nil)
	case x < 97:
		s.note("the bot restarts")
		s.d.open()
		s.deliver(nil)
	default:
		s.coordinatorStep()
	}
	s.checkState()
}

// say delivers one event and carries out what it caused. text, when a requester wrote
// it, must reach someone.
func (s *sim) say(in bot.Inbound, followed *simRequester) {
	in.EventID = fmt.Sprintf("$s%d", s.d.seq.Add(1))
	in.Device = bot.DeviceVerified
	s.note("%s in %s: %q", in.Sender, in.Conversation, in.Text)
	if err := s.d.svc.Handle(context.Background(), in); err != nil {
		s.t.Fatalf("Handle: %v", err)
	}
	s.deliver(func(out []bot.Outgoing) {
		if followed == nil {
			return
		}
		s.texts++
		words := strings.TrimPrefix(in.Text, "!add ")
		for _, m := range out {
			if m.Action != "" && m.Action != bot.ActionRelay {
				continue
			}
			if m.Conversation == in.Conversation || (s.rooms[m.Conversation] != nil && strings.Contains(m.Plain, words)) {
				return // answered where they wrote, or passed into a case room
			}
		}
		if in.Group && s.workedHere(in.Conversation) {
			return // the conversation with whoever works the case, who is in the room
		}
		s.t.Errorf("what %s wrote in %s reached nobody and got no answer: %q", followed.id, in.Conversation, in.Text)
	})
}

// workedHere reports whether someone working the room's case is joined there.
func (s *sim) workedHere(roomID string) bool {
	allowed := s.allowed(roomID)
	for u, how := range s.rooms[roomID] {
		if how == "join" && allowed[u] && !s.isRequester(u) {
			return true
		}
	}
	return false
}

func (s *sim) isRequester(u string) bool {
	return slices.ContainsFunc(s.requesters, func(r simRequester) bool { return r.id == u })
}

// deliver is the bridge: it takes everything out of the outbox, carries out the room
// actions, checks what was sent, and hands the messages to see.
func (s *sim) deliver(see func([]bot.Outgoing)) {
	out := s.d.drainAll()
	for _, m := range out {
		switch m.Action {
		case bot.ActionCreateRoom:
			s.roomSeq++
			roomID := fmt.Sprintf("!room%d:localhost", s.roomSeq)
			s.rooms[roomID] = map[string]string{}
			for _, u := range m.Payload.Users {
				s.rooms[roomID][u] = "invite"
			}
			if err := s.d.svc.RoomCreated(context.Background(), m.Payload.CaseID, roomID); err != nil {
				s.t.Fatal(err)
			}
		case bot.ActionInvite:
			for _, u := range m.Payload.Users {
				if s.rooms[m.Payload.Room][u] == "" {
					s.rooms[m.Payload.Room][u] = "invite"
				}
			}
		case bot.ActionMembers:
			for u := range s.rooms[m.Payload.Room] {
				if !slices.Contains(m.Payload.Users, u) {
					delete(s.rooms[m.Payload.Room], u)
				}
			}
		case bot.ActionRemove:
			for _, u := range m.Payload.Users {
				delete(s.rooms[m.Payload.Room], u)
			}
		case "", bot.ActionRelay:
			s.checkMessage(m)
		}
	}
	if len(s.d.drainAll()) > 0 {
		// RoomCreated may say something; it is carried out at the next step.
		s.note("(the bridge's own turns queued more)")
	}
	if see != nil {
		see(out)
	}
}

// checkMessage looks at one message the bot sent.
func (s *sim) checkMessage(m bot.Outgoing) {
	s.checks++
	if strings.Contains(m.Plain, "Welcome to the private room for ") {
		s.summaries++
		ref := strings.Fields(strings.SplitN(m.Plain, "Welcome to the private room for ", 2)[1])[0]
		ref = strings.TrimSuffix(ref, ".")
		var additions []string
		if err := s.d.st.DB.Select(&additions, `SELECT a.text FROM case_additions a JOIN cases c ON c.id = a.case_id
			WHERE c.ref = $1 ORDER BY a.id`, ref); err != nil {
			s.t.Fatal(err)
		}
		for _, a := range additions {
			if a = s.d.opened("case_additions.text", a); !strings.Contains(m.Plain, a) {
				s.t.Errorf("the summary of %s lacks something the requester added: %q", ref, a)
			}
		}
	}
	for _, r := range s.requesters {
		if m.Conversation != r.conv {
			continue
		}
		for _, h := range append(append([]string{}, s.volunteers...), s.staff...) {
			if strings.Contains(m.Plain, h) || strings.Contains(m.Markdown, h) {
				s.t.Errorf("%s's chat with the bot shows helper %s: %q", r.id, h, m.Plain)
			}
		}
	}
	volunteerSide := m.Conversation == volRoom || m.Conversation == "!coord:localhost"
	for _, dm := range s.dm {
		volunteerSide = volunteerSide || m.Conversation == dm
	}
	if !volunteerSide {
		return
	}
	var staffOnly []string
	if err := s.d.st.DB.Select(&staffOnly, `SELECT ref FROM cases WHERE route = 'staff' AND queued_at = 0`); err != nil {
		s.t.Fatal(err)
	}
	for _, ref := range staffOnly {
		if strings.Contains(m.Plain, ref) {
			s.t.Errorf("%s was sent the reference of staff-route case %s: %q", m.Conversation, ref, m.Plain)
		}
	}
}

// allowed is who may be in a room now, from the database: the rule the bot enforces.
func (s *sim) allowed(roomID string) map[string]bool {
	var c struct {
		Route, State, RoomID, Staff, Requester, Platform, Volunteer, Mentor string
		Relayed                                                             bool
	}
	err := s.d.st.DB.QueryRow(`SELECT c.route, c.state, c.room_id, c.staff_id, p.external_id, p.platform,
			coalesce(v.user_id, ''), coalesce(m.user_id, ''), c.relayed
		FROM case_rooms r JOIN cases c ON c.id = r.case_id JOIN people p ON p.id = c.person_id
		LEFT JOIN volunteers v ON v.id = c.volunteer_id LEFT JOIN volunteers m ON m.id = c.mentor_id
		WHERE r.room_id = $1`, roomID).Scan(&c.Route, &c.State, &c.RoomID, &c.Staff, &c.Requester, &c.Platform, &c.Volunteer, &c.Mentor, &c.Relayed)
	if err != nil {
		s.t.Fatalf("room %s: %v", roomID, err)
	}
	ok := map[string]bool{}
	if c.Platform == "matrix" && !c.Relayed {
		ok[c.Requester] = true
	}
	if c.RoomID == roomID && (c.State == "accepted" || c.State == "active") {
		for _, u := range []string{c.Staff, c.Volunteer, c.Mentor} {
			if u != "" {
				ok[u] = true
			}
		}
	}
	return ok
}

// checkState checks the invariants that the database and the rooms must always hold.
func (s *sim) checkState() {
	for roomID, members := range s.rooms {
		allowed := s.allowed(roomID)
		for u := range members {
			s.checks++
			if !allowed[u] {
				s.t.Errorf("%s is in %s but has no place there", u, roomID)
			}
		}
	}
	for _, q := range []struct{ what, sql string }{
		{"a queued case without its reassurance", `SELECT ref FROM cases c WHERE route = 'volunteer' AND state IN ('queued', 'offered')
			AND NOT EXISTS (SELECT 1 FROM timers WHERE kind = 'reassure' AND subject = c.id)`},
		{"an offered case whose offer cannot expire", `SELECT c.ref FROM cases c WHERE state = 'offered' AND NOT EXISTS (
			SELECT 1 FROM offers o JOIN timers t ON t.kind = 'offer_expiry' AND t.subject = o.id WHERE o.case_id = c.id AND o.state = 'open')`},
		{"a worked case without its worker", `SELECT ref FROM cases WHERE state IN ('accepted', 'active')
			AND ((route = 'volunteer' AND volunteer_id IS NULL) OR (route = 'staff' AND staff_id = ''))`},
		{"a staff-route case nobody is paged for", `SELECT ref FROM cases c WHERE route = 'staff' AND state IN ('intake', 'staff')
			AND staff_id = '' AND NOT EXISTS (SELECT 1 FROM timers WHERE kind = 'page_ack' AND subject = c.id)`},
		{"a case with two open offers", `SELECT c.ref FROM cases c WHERE (SELECT count(*) FROM offers o
			WHERE o.case_id = c.id AND o.state = 'open') > 1`},
		{"a case offered to or held by a volunteer it names", `SELECT c.ref FROM cases c JOIN volunteers v
			ON v.id IN (c.volunteer_id, c.mentor_id)
			WHERE c.state IN ('offered', 'accepted', 'active') AND (v.wiki_key = ANY (c.party_keys)
				OR EXISTS (SELECT 1 FROM conflicts f WHERE f.volunteer_id = v.id AND f.name_key = ANY (c.party_keys)))`},
	} {
		var refs []string
		if err := s.d.st.DB.Select(&refs, q.sql); err != nil {
			s.t.Fatal(err)
		}
		s.checks++
		for _, r := range refs {
			s.t.Errorf("%s: %s", q.what, r)
		}
	}
}

// requesterStep has a requester do what fits where they are.
func (s *sim) requesterStep(r simRequester) {
	var step, caseState, roomID string
	_ = s.d.st.DB.QueryRow(`SELECT i.step FROM intakes i JOIN people p ON p.id = i.person_id
		WHERE p.external_id = $1 AND i.status = 'open'`, r.id).Scan(&step)
	_ = s.d.st.DB.QueryRow(`SELECT c.state, c.room_id FROM cases c JOIN people p ON p.id = c.person_id
		WHERE p.external_id = $1 ORDER BY c.id DESC LIMIT 1`, r.id).Scan(&caseState, &roomID)
	s.marker++
	mark := fmt.Sprintf("m%d-%d", s.marker, s.pick(1000))
	text := ""
	switch {
	case s.chance(0.04):
		text = "!cancel"
	case s.chance(0.05):
		text = "!status"
	case step == "q_harm" || step == "q_minor" || step == "q_illegal" || step == "q_offwiki":
		text = []string{"no", "no", "no", "no", "yes", "my boss " + mark}[s.pick(6)]
	case step == "description":
		text = "story " + mark + " they keep reverting me and writing rude things"
	case step == "parties":
		text = []string{"none", "Harasser", "VA", "Someone Else"}[s.pick(4)]
	case step == "project":
		text = "en.wikipedia.org"
	case step == "language":
		text = "en"
	case step == "confirm":
		text = []string{"yes", "yes", "yes", "no"}[s.pick(4)]
	case caseState == "closed" && s.chance(0.4):
		text = []string{"4", "5 minutes ago " + mark, "!feedback thanks " + mark}[s.pick(3)]
	case caseState != "" && caseState != "closed" && caseState != "withdrawn":
		if r.platform == bot.Matrix && roomID != "" && s.rooms[roomID][r.id] == "join" && s.chance(0.5) {
			s.say(bot.Inbound{Platform: bot.Matrix, Sender: r.id, Conversation: roomID, Text: "in the room " + mark, Group: true}, &r)
			return
		}
		text = []string{"followup " + mark, "!add more " + mark}[s.pick(2)]
	default:
		text = []string{"hello", "please help " + mark + " someone is following me around the wiki", "urgent " + mark}[s.pick(3)]
	}
	var followed *simRequester
	if !strings.HasPrefix(text, "!status") {
		followed = &r
	}
	s.say(bot.Inbound{Platform: r.platform, Sender: r.id, Conversation: r.conv, Text: text}, followed)
}

// openRefs lists references of cases in the given states (and route, if not "").
func (s *sim) refs(route string, states ...string) []string {
	var refs []string
	if err := s.d.st.DB.Select(&refs, `SELECT ref FROM cases WHERE ($1 = '' OR route = $1) AND state = ANY ($2) ORDER BY id`,
		route, "{"+strings.Join(states, ",")+"}"); err != nil {
		s.t.Fatal(err)
	}
	return refs
}

func (s *sim) volunteerStep(v string) {
	dm := s.dm[v]
	joined := s.roomsOf(v, "join")
	switch x := s.pick(10); {
	case x < 3 && len(joined) > 0:
		roomID := joined[s.pick(len(joined))]
		text := []string{"hello, I am here to help", "!note remember the diffs", "!close resolved", "!transfer",
			"!escalate", "!close no-action thanks"}[s.pick(6)]
		s.say(bot.Inbound{Platform: bot.Matrix, Sender: v, Conversation: roomID, Text: text, Group: true}, nil)
	case x < 7:
		s.say(bot.Inbound{Platform: bot.Matrix, Sender: v, Conversation: dm, Text: "!accept"}, nil)
	case x < 8:
		s.say(bot.Inbound{Platform: bot.Matrix, Sender: v, Conversation: dm, Text: "!decline"}, nil)
	default:
		s.say(bot.Inbound{Platform: bot.Matrix, Sender: v, Conversation: dm, Text: []string{"!on", "!off", "!me"}[s.pick(3)]}, nil)
	}
}

func (s *sim) staffStep() {
	who := s.staff[s.pick(len(s.staff))]
	joined := s.roomsOf(who, "join")
	x := s.pick(10)
	if refs := s.refs("staff", "intake", "staff"); x < 4 && len(refs) > 0 {
		s.say(bot.Inbound{Platform: bot.Matrix, Sender: who, Conversation: staffRoom, Text: "!ack " + refs[s.pick(len(refs))], Group: true}, nil)
		return
	}
	switch {
	case x < 7 && len(joined) > 0:
		roomID := joined[s.pick(len(joined))]
		text := []string{"we are looking into it", "!close referred", "!transfer " + s.staff[s.pick(2)]}[s.pick(3)]
		s.say(bot.Inbound{Platform: bot.Matrix, Sender: who, Conversation: roomID, Text: text, Group: true}, nil)
	case x < 8:
		if refs := s.refs("", "closed", "withdrawn"); len(refs) > 0 {
			s.say(bot.Inbound{Platform: bot.Matrix, Sender: who, Conversation: staffRoom, Text: "!reopen " + refs[s.pick(len(refs))], Group: true}, nil)
		}
	default:
		v := s.volunteers[s.pick(len(s.volunteers))]
		cmd := []string{"suspend", "promote", "confirm"}[s.pick(3)]
		if s.chance(0.3) {
			cmd = "remove"
		}
		s.say(bot.Inbound{Platform: bot.Matrix, Sender: who, Conversation: staffRoom, Text: "!volunteer " + cmd + " " + v, Group: true}, nil)
	}
}

func (s *sim) coordinatorStep() {
	text := []string{"!queue", "!stats", "!coverage"}[s.pick(3)]
	s.say(bot.Inbound{Platform: bot.Matrix, Sender: coordinator, Conversation: "!coord:localhost", Text: text, Group: true}, nil)
}

// joinStep is someone invited accepting, or now and then a stranger getting into a room.
func (s *sim) joinStep() {
	type inv struct{ room, user string }
	var invites []inv
	for roomID, members := range s.rooms {
		for u, how := range members {
			if how == "invite" {
				invites = append(invites, inv{roomID, u})
			}
		}
	}
	slices.SortFunc(invites, func(a, b inv) int { return strings.Compare(a.room+a.user, b.room+b.user) })
	var j inv
	switch {
	case len(s.rooms) > 0 && s.chance(0.1):
		rooms := make([]string, 0, len(s.rooms))
		for r := range s.rooms {
			rooms = append(rooms, r)
		}
		slices.Sort(rooms)
		j = inv{rooms[s.pick(len(rooms))], stranger}
	case len(invites) > 0:
		j = invites[s.pick(len(invites))]
	default:
		return
	}
	s.note("%s joins %s", j.user, j.room)
	s.rooms[j.room][j.user] = "join"
	in := bot.Inbound{Platform: bot.Matrix, EventID: fmt.Sprintf("$j%d", s.d.seq.Add(1)), Sender: j.user, Conversation: j.room}
	if err := s.d.svc.Joined(context.Background(), in); err != nil {
		s.t.Fatal(err)
	}
	s.deliver(nil)
}

func (s *sim) roomsOf(user, how string) []string {
	var out []string
	for roomID, members := range s.rooms {
		if members[user] == how {
			out = append(out, roomID)
		}
	}
	slices.Sort(out)
	return out
}
