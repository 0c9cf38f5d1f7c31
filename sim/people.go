package sim

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"time"

	"switchboard/bot"
)

// The simulated people. Each reads only what the bot sent them, looks at the database
// where a person would look at their screen (which question is asked, which offer is
// open), and acts after a delay drawn from the scenario.

// humanWords start a helper's first message, so an IRC requester recognises it relayed.
const humanWords = "I have read what you wrote"

var refPattern = regexp.MustCompile(`SB-[2-9A-HJ-NP-Z]{5}`)

// entry is one line of a requester's timeline.
type entry struct {
	At   time.Time
	What string
}

type requester struct {
	plannedRequester
	s        *Sim
	id, conv string
	rng      *rand.Rand

	started, stopped, answerPending bool
	answers                         int
	inLine                          bool
	followPending, patienceArmed    bool
	rated, replied, humanSeen       bool
	gaveUp                          bool
	firstReplyAt                    time.Time
	roomID                          string
	caseRef                         string
	timeline                        []entry
}

// state is what the requester sees of their request.
type state struct {
	Step    string `db:"step"`
	CaseID  int64  `db:"case_id"`
	Ref     string `db:"ref"`
	Route   string `db:"route"`
	State   string `db:"state"`
	RoomID  string `db:"room_id"`
	StaffID string `db:"staff_id"`
}

func (r *requester) state() state {
	var st state
	err := r.s.eyes.DB.Get(&st, `SELECT coalesce((SELECT i.step FROM intakes i WHERE i.person_id = p.id AND i.status = 'open'), '') AS step,
			coalesce(c.id, 0) AS case_id, coalesce(c.ref, '') AS ref, coalesce(c.route, '') AS route, coalesce(c.state, '') AS state,
			coalesce(c.room_id, '') AS room_id, coalesce(c.staff_id, '') AS staff_id
		FROM people p LEFT JOIN LATERAL (SELECT * FROM cases WHERE person_id = p.id ORDER BY id DESC LIMIT 1) c ON true
		WHERE p.platform = $1 AND p.external_id = $2`, string(r.Platform), r.id)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		r.s.fatal(err)
	}
	if st.Ref != "" {
		r.caseRef = st.Ref
	}
	return st
}

func (r *requester) ref() string { return r.caseRef }

// waiting: their case exists and nobody has taken it yet.
func (st state) waiting() bool {
	switch {
	case st.Route == string(bot.RouteVolunteer):
		return st.State == string(bot.StateQueued) || st.State == string(bot.StateOffered)
	case st.Route == string(bot.RouteStaff):
		return st.StaffID == "" && st.State != string(bot.StateClosed) && st.State != string(bot.StateWithdrawn)
	}
	return false
}

func (r *requester) note(format string, args ...any) {
	r.timeline = append(r.timeline, entry{r.s.now(), fmt.Sprintf(format, args...)})
}

func (r *requester) say(text string) reach {
	if late := r.s.now().Sub(r.s.wrote); late > 0 && !r.s.wrote.IsZero() {
		r.timeline = append(r.timeline, entry{r.s.wrote, fmt.Sprintf("requester writes %q (the bot gets it %s later)", short(text), fd(Duration(late)))})
	} else {
		r.note("requester writes %q", short(text))
	}
	_, reached := r.s.handle(bot.Inbound{Platform: r.Platform, Sender: r.id, Conversation: r.conv, Text: text}, r)
	return reached
}

func (r *requester) start() {
	r.started = true
	text := "hello"
	if r.Story {
		text = fmt.Sprintf("Please help: an editor follows me from article to article and insults me on talk pages (r%d)", r.N)
	}
	r.say(text)
}

func (r *requester) onMessage(m bot.Outgoing) {
	if r.firstReplyAt.IsZero() {
		r.firstReplyAt = r.s.now()
	}
	r.note("bot says %q", short(m.Plain))
	if strings.Contains(m.Plain, humanWords) {
		r.readHuman() // relayed: from IRC, or into their direct chat (relayed case rooms)
	}
	r.react()
}

// react does what the message calls for: answer the next question, wait in line, write
// again while waiting, or rate the help.
func (r *requester) react() {
	st := r.state()
	switch {
	case st.Step != "":
		r.inLine = false
		if r.stopped || r.answerPending {
			return
		}
		if r.AbandonAfter >= 0 && r.answers >= r.AbandonAfter {
			r.stopped = true
			r.note("requester stops answering")
			return
		}
		r.answerPending = true
		r.s.after(r.s.sc.Requesters.Answer.draw(r.rng, 2*time.Second), r.answer)
	case st.CaseID == 0 && r.started && !r.stopped:
		if !r.inLine {
			r.inLine = true
			r.note("requester waits in line")
		}
		r.s.wakeWaitlist()
	case st.waiting():
		r.waitOn(st)
	case st.State == string(bot.StateClosed) && !r.rated:
		r.rated = true
		if chance(r.rng, r.s.sc.Requesters.Rating) {
			r.s.after(r.s.sc.Requesters.Answer.draw(r.rng, 2*time.Second), func() { r.say(fmt.Sprint(4 + r.rng.IntN(2))) })
		}
	}
}

// waitOn arms what a waiting person does: write again now and then, and perhaps give up.
func (r *requester) waitOn(st state) {
	rq := &r.s.sc.Requesters
	if rq.FollowUpEvery > 0 && !r.followPending {
		r.followPending = true
		r.s.after(time.Duration(r.rng.ExpFloat64()*float64(rq.FollowUpEvery)), func() {
			r.followPending = false
			if r.state().waiting() && !r.gaveUp {
				r.say(fmt.Sprintf("Is anyone there? I am still waiting (r%d, %s)", r.N, r.s.now().Format("15:04")))
			}
		})
	}
	if r.Patience > 0 && !r.patienceArmed {
		r.patienceArmed = true
		r.s.at(r.At.Add(r.Patience), true, func() {
			if r.state().waiting() {
				r.gaveUp = true
				r.say("!cancel")
			}
		})
	}
}

func (r *requester) answer() {
	r.answerPending = false
	st := r.state()
	if st.Step == "" {
		return
	}
	r.answers++
	r.say(r.answerFor(bot.Step(st.Step)))
}

func (r *requester) answerFor(step bot.Step) string {
	switch step {
	case bot.StepHarm, bot.StepMinor, bot.StepIllegal, bot.StepOffWiki:
		if step == r.Safety {
			return "yes"
		}
		return "no"
	case bot.StepDescription:
		return fmt.Sprintf("Someone keeps reverting my edits and writing insults about me on talk pages (r%d)", r.N)
	case bot.StepParties:
		return "none"
	case bot.StepProject:
		return r.Language + ".wikipedia.org"
	case bot.StepLanguage:
		return r.Language
	}
	return "yes"
}

// invited: a Matrix requester joins their case room after a while.
func (r *requester) invited(roomID string) {
	r.roomID = roomID
	r.s.after(r.s.sc.Requesters.Answer.draw(r.rng, 2*time.Second), func() {
		rm := r.s.rooms[roomID]
		if rm == nil || rm.members[r.id] != "invite" {
			return
		}
		rm.members[r.id] = "join"
		r.note("requester joins the case room")
		r.s.joined(r.id, roomID)
		if rm.human {
			r.readHuman()
		}
	})
}

// readHuman: the requester reads a helper's words and answers them once.
func (r *requester) readHuman() {
	if r.humanSeen {
		return
	}
	r.humanSeen = true
	r.note("requester reads a helper's first words")
	r.s.after(r.s.sc.Requesters.Reply.draw(r.rng, 5*time.Second), func() {
		text := fmt.Sprintf("Thank you, here are the diffs (r%d)", r.N)
		if r.Platform == bot.Matrix {
			if rm := r.s.rooms[r.roomID]; rm != nil && rm.members[r.id] == "join" {
				r.note("requester writes in the case room")
				_, reached := r.s.handle(bot.Inbound{Platform: bot.Matrix, Sender: r.id, Conversation: r.roomID, Text: text, Group: true}, r)
				r.replied = reached == reachedHelper
				return
			}
		}
		if r.state().State == string(bot.StateActive) {
			r.replied = r.say(text) == reachedHelper
		}
	})
}

// joined tells the core someone joined a room.
func (s *Sim) joined(user, roomID string) {
	s.evID++
	in := bot.Inbound{Platform: bot.Matrix, EventID: fmt.Sprintf("$join%d", s.evID), Sender: user, Conversation: roomID}
	s.deliver(s.call("joined", func(ctx context.Context) error { return s.svc.Joined(ctx, in) }))
}

// worker is who works the case in a room now.
type worker struct {
	CaseID    int64  `db:"id"`
	Ref       string `db:"ref"`
	State     string `db:"state"`
	Volunteer string `db:"volunteer"`
	Staff     string `db:"staff_id"`
}

func (s *Sim) workerOf(roomID string) worker {
	var w worker
	err := s.eyes.DB.Get(&w, `SELECT c.id, c.ref, c.state, coalesce(v.user_id, '') AS volunteer, c.staff_id
		FROM cases c LEFT JOIN volunteers v ON v.id = c.volunteer_id WHERE c.room_id = $1`, roomID)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		s.fatal(err)
	}
	return w
}

func (w worker) works(user string) bool {
	return (w.State == string(bot.StateAccepted) || w.State == string(bot.StateActive)) && (w.Volunteer == user || w.Staff == user)
}

// helper is what volunteers and staff share: joining a case room, writing, closing.
type helper struct {
	s              *Sim
	id, name       string
	rng            *rand.Rand
	join, first    Dist
	handleFor      Dist
	escalate       float64
	closeReason    string
	escalateOption bool
}

func (h *helper) invited(roomID string) {
	h.s.after(h.join.draw(h.rng, 5*time.Second), func() {
		rm := h.s.rooms[roomID]
		if rm == nil || rm.members[h.id] != "invite" {
			return
		}
		rm.members[h.id] = "join"
		h.s.joined(h.id, roomID)
		if !h.s.workerOf(roomID).works(h.id) {
			return
		}
		h.s.after(h.first.draw(h.rng, 10*time.Second), func() { h.firstWords(roomID) })
	})
}

func (h *helper) inRoom(roomID, text string) []bot.Outgoing {
	rows, _ := h.s.handle(bot.Inbound{Platform: bot.Matrix, Sender: h.id, Conversation: roomID, Text: text, Group: true, SenderName: h.name}, nil)
	return rows
}

func (h *helper) firstWords(roomID string) {
	if !h.s.workerOf(roomID).works(h.id) || h.s.rooms[roomID].members[h.id] != "join" {
		return
	}
	rm := h.s.rooms[roomID]
	h.s.checkHeard(roomID, h.inRoom(roomID, fmt.Sprintf("Hello, I am %s. %s, and I am here to help.", h.name, humanWords)))
	rm.human = true
	for u, how := range rm.members {
		if r := h.s.reqByID[u]; r != nil && how == "join" {
			r.readHuman()
		}
	}
	if h.escalateOption && chance(h.rng, h.escalate) {
		h.s.after(h.first.draw(h.rng, 10*time.Second), func() {
			if h.s.workerOf(roomID).works(h.id) {
				h.inRoom(roomID, "!escalate")
			}
		})
		return
	}
	h.s.after(h.handleFor.draw(h.rng, time.Minute), func() {
		if h.s.workerOf(roomID).works(h.id) && h.s.rooms[roomID].members[h.id] == "join" {
			h.inRoom(roomID, "!close "+h.closeReason)
		}
	})
}

type volAgent struct {
	helper
	plannedVolunteer
	dm            string
	seen          map[int64]bool
	announcements map[string]bool
}

func (v *volAgent) dmSay(text string) {
	v.s.handle(bot.Inbound{Platform: bot.Matrix, Sender: v.id, Conversation: v.dm, Text: text}, nil)
}

// onMessage: a message by DM; an offer among the open ones gets an answer, or none.
func (v *volAgent) onMessage(bot.Outgoing) {
	var offers []struct {
		ID  int64  `db:"id"`
		Ref string `db:"ref"`
	}
	if err := v.s.eyes.DB.Select(&offers, `SELECT o.id, c.ref FROM offers o JOIN cases c ON c.id = o.case_id
		JOIN volunteers v ON v.id = o.volunteer_id WHERE v.user_id = $1 AND o.state = 'open' ORDER BY o.id`, v.id); err != nil {
		v.s.fatal(err)
	}
	for _, o := range offers {
		if v.seen[o.ID] {
			continue
		}
		v.seen[o.ID] = true
		ignore, accept, after := chance(v.rng, *v.Ignore), chance(v.rng, *v.Accept), v.Respond.draw(v.rng, 10*time.Second)
		if ignore {
			continue
		}
		ref := o.Ref
		v.s.after(after, func() {
			if accept {
				v.dmSay("!accept " + ref)
			} else {
				v.dmSay("!decline " + ref)
			}
		})
	}
}

// announced: broadcast mode; a volunteer on duty may take an announced case.
func (v *volAgent) announced(m bot.Outgoing) {
	ref := refPattern.FindString(m.Plain)
	if ref == "" || v.announcements[ref] {
		return // answers in the room name the reference again; only the first is news
	}
	v.announcements[ref] = true
	if !v.s.onDuty(v.id) {
		return
	}
	ignore, after := chance(v.rng, *v.Ignore), v.Respond.draw(v.rng, 10*time.Second)
	if ignore || !chance(v.rng, *v.Accept) {
		return
	}
	v.s.after(after, func() {
		v.s.handle(bot.Inbound{Platform: bot.Matrix, Sender: v.id, Conversation: volRoom, Text: "!accept " + ref, Group: true}, nil)
	})
}

type staffAgent struct {
	helper
	plannedStaff
}

// paged: a mention in the staff room. Within their hours, and unless they miss it, they
// acknowledge after a while, unless someone else did first.
func (a *staffAgent) paged(m bot.Outgoing) {
	ref := refPattern.FindString(m.Plain)
	miss, after := chance(a.rng, a.Miss), a.s.sc.Staff.Ack.draw(a.rng, 10*time.Second)
	if ref == "" || miss || (a.Loc != nil && !inHours(a.s.now(), a.From, a.To, a.Loc)) {
		return
	}
	a.s.after(after, func() {
		var taken bool
		if err := a.s.eyes.DB.Get(&taken, `SELECT staff_id <> '' OR state IN ('closed', 'withdrawn') FROM cases WHERE ref = $1`, ref); err != nil {
			a.s.fatal(err)
		}
		if !taken {
			a.s.handle(bot.Inbound{Platform: bot.Matrix, Sender: a.id, Conversation: staffRoom, Text: "!ack " + ref, Group: true}, nil)
		}
	})
}

// setUp makes the people and puts the roster through vetting and on its shifts with
// the bot's own commands, as staff and volunteers would.
func (s *Sim) setUp() {
	s.rep = &Report{Scenario: s.sc.Name, Seed: s.sc.Seed, Start: s.sc.Start, ArrivalsEnd: s.sc.Start.Add(s.sc.Length.D()), End: s.end,
		Target: s.sc.Target}
	for i, pr := range s.plan.requesters {
		r := &requester{plannedRequester: pr, s: s, rng: newRand(s.sc.Seed, 1000+uint64(i))}
		if pr.Platform == bot.IRC {
			r.id, r.conv = fmt.Sprintf("r%04d", pr.N), fmt.Sprintf("r%04d_", pr.N)
		} else {
			r.id, r.conv = fmt.Sprintf("@r%04d:%s", pr.N, server), fmt.Sprintf("!dm-r%04d:%s", pr.N, server)
		}
		s.requesters = append(s.requesters, r)
		s.reqByConv[r.conv], s.reqByID[r.id] = r, r
	}
	for i, ps := range s.plan.staff {
		a := &staffAgent{plannedStaff: ps}
		a.helper = helper{s: s, id: "@" + ps.Name + ":" + server, name: ps.Name, rng: newRand(s.sc.Seed, 500+uint64(i)),
			join: s.sc.Staff.Join, first: s.sc.Staff.FirstReply, handleFor: s.sc.Staff.Handle, closeReason: "referred"}
		s.staff = append(s.staff, a)
		s.staffByID[a.id] = a
	}
	adminSays := func(text string) {
		s.handle(bot.Inbound{Platform: bot.Matrix, Sender: admin, Conversation: staffRoom, Text: text, Group: true}, nil)
	}
	for i, pv := range s.plan.volunteers {
		v := &volAgent{plannedVolunteer: pv, seen: map[int64]bool{}, announcements: map[string]bool{}}
		v.helper = helper{s: s, id: "@vol-" + pv.Name + ":" + server, name: pv.Name, rng: newRand(s.sc.Seed, 100+uint64(i)),
			join: *pv.Join, first: *pv.FirstReply, handleFor: *pv.Handle, escalate: *pv.Escalate, closeReason: "resolved", escalateOption: true}
		v.dm = "!dm-vol-" + pv.Name + ":" + server
		s.vols = append(s.vols, v)
		s.volByID[v.id], s.volByDM[v.dm] = v, v
		// Their name is their wiki username: the core offers nothing to a volunteer
		// without one.
		adminSays("!volunteer add " + v.id + " " + pv.Name)
		adminSays("!volunteer confirm " + v.id)
		adminSays("!volunteer promote " + v.id)
		v.dmSay("!languages " + strings.Join(pv.Languages, " "))
		if pv.Limit > 0 {
			v.dmSay(fmt.Sprintf("!limit %d", pv.Limit))
		}
		for _, sh := range pv.Shifts {
			v.dmSay("!shift add " + sh)
		}
	}
	s.loadShifts()
	s.checkRoster()
	s.handle(bot.Inbound{Platform: bot.Matrix, Sender: coordID, Conversation: coordRoom, Text: "!coverage", Group: true}, nil)
	s.rep.Volunteers, s.rep.Staff = len(s.vols), len(s.staff)
	for _, v := range s.vols {
		s.rep.Roster = append(s.rep.Roster, RosterLine{Name: v.Name, Languages: v.Languages, Shifts: v.Shifts})
	}
	if len(s.cfg.OnCall) > 0 {
		s.rep.Primary = strings.TrimSuffix(strings.TrimPrefix(firstOfChain(s.cfg, s.sc.Start), "@"), ":"+server)
	}
}

// checkRoster makes sure the bot took the roster as the scenario meant it: every
// volunteer active, with a wiki name and every shift. A command it refused (a shift it
// cannot read) would otherwise leave someone off duty all week without a word.
func (s *Sim) checkRoster() {
	var vols []bot.Volunteer
	err := s.eyes.InTx(s.ctx, func(tx bot.Tx) error {
		var err error
		if vols, err = tx.Volunteers(s.ctx); err != nil {
			return err
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		s.fatal(err)
	}
	byUser := map[string]bot.Volunteer{}
	for _, v := range vols {
		byUser[v.UserID] = v
	}
	for _, a := range s.vols {
		v, ok := byUser[a.id]
		switch {
		case !ok || v.Status != bot.VolActive || v.WikiUsername == "":
			s.fatal(fmt.Errorf("%w: volunteer %s: the bot did not make them an active volunteer with a wiki name (status %q, wiki name %q)",
				ErrScenario, a.Name, v.Status, v.WikiUsername))
		case len(s.shifts[v.ID]) != len(a.Shifts):
			s.fatal(fmt.Errorf("%w: volunteer %s: the bot took %d of the shifts %q", ErrScenario, a.Name, len(s.shifts[v.ID]), a.Shifts))
		}
	}
}

// firstOfChain is who the core pages first at t, by the same arithmetic the core uses
// (bot's chainAt is unexported; this only labels the report).
func firstOfChain(c bot.Config, t time.Time) string {
	idx := 0
	if c.RotationPeriod > 0 && t.After(c.RotationStart) {
		idx = int(t.Sub(c.RotationStart)/c.RotationPeriod) % len(c.OnCall)
	}
	return c.OnCall[idx]
}

// loadShifts reads the roster's shifts once (they do not change during the week).
func (s *Sim) loadShifts() {
	s.shifts = map[int64][]bot.Shift{}
	var vols []bot.Volunteer
	err := s.eyes.InTx(s.ctx, func(tx bot.Tx) error {
		var err error
		if vols, err = tx.Volunteers(s.ctx); err != nil {
			return err
		}
		for _, v := range vols {
			sh, err := tx.Shifts(s.ctx, v.ID)
			if err != nil {
				return err
			}
			s.shifts[v.ID] = sh
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		s.fatal(err)
	}
}

// onDuty asks the core's own rule whether a volunteer is on duty now.
func (s *Sim) onDuty(user string) bool {
	var v *bot.Volunteer
	err := s.eyes.InTx(s.ctx, func(tx bot.Tx) error {
		var err error
		v, err = tx.Volunteer(s.ctx, user)
		if err != nil {
			return err
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		s.fatal(err)
	}
	return v != nil && v.Status == bot.VolActive && bot.OnDuty(*v, s.shifts[v.ID], s.now())
}

func short(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 72 {
		return string(r[:71]) + "…"
	}
	return s
}
