package sim

import (
	"bytes"
	"container/heap"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"switchboard/bot"
	"switchboard/i18n"
	"switchboard/store"
)

// Options say how to run a scenario beyond what it says itself.
type Options struct {
	// Config is the deployment's core settings (config.Config.Core()): offer expiry, ack
	// timeout, rounds, limits. The scenario's people replace its staff, chain and rooms.
	Config bot.Config
	// Server is where the run's database is made.
	Server *Server
	// Volunteers and Staff, when positive, replace the generated roster's and the
	// chain's sizes (for sweeps).
	Volunteers, Staff int
	// Progress, if set, gets a line now and then.
	Progress io.Writer
}

// The simulated people's rooms: the bot's configuration points at these.
const (
	staffRoom  = "!staff:" + server
	coordRoom  = "!coordinators:" + server
	volRoom    = "!volunteers:" + server
	admin      = "@admin:" + server
	coordID    = "@coordinator:" + server
	checkEvery = 5 * time.Minute
	sampleStep = 10 * time.Minute
	// routeEvery is app.Run's routing sweep period.
	routeEvery = time.Minute
)

// Sim is one run.
type Sim struct {
	sc   *Scenario
	plan *plan
	cfg  bot.Config
	// dataKey seals the throwaway database's content, as in production; it lives
	// only as long as the run.
	dataKey string
	opt     Options
	ctx     context.Context
	cat     *i18n.Catalogue
	clock   atomic.Int64 // unix ms
	q       eventQueue
	seq     int64
	evID    int64
	end     time.Time // the last instant simulated

	botDSN, eyesDSN string
	proxy           *faultProxy
	st              *store.Store // the bot's, through the proxy
	eyes            *store.Store // the simulated people's view of the database
	svc             *bot.Service
	storeNoticed    chan struct{}
	botErrors       atomic.Int64

	botUpAt     time.Time // the bot is down (restarting) until then
	dbAwayUntil time.Time
	recent      []bot.Inbound // the last Matrix events, redelivered after a crash

	requesters []*requester
	reqByConv  map[string]*requester
	reqByID    map[string]*requester
	vols       []*volAgent
	volByID    map[string]*volAgent
	volByDM    map[string]*volAgent
	staff      []*staffAgent
	staffByID  map[string]*staffAgent
	rooms      map[string]*room
	roomSeq    int
	shifts     map[int64][]bot.Shift

	waitlistTicking bool
	// What the loop knows without asking the database again: both change only in a
	// call into the core.
	timersStale, queueStale, queued bool
	nextTimer                       time.Time
	checkedAt                       int       // calls at the last check
	wrote                           time.Time // when the event being run was meant to happen
	routed, checked                 snapshot  // what the last sweep and the last routing check saw
	freeAt                          snapshot  // when anyoneFree last asked
	free, freeKnown                 bool
	volRows                         []volRow
	volRowsAt                       int // calls when volRows was read
	rep                             *Report
	breaches                        map[string]*Breach
	waitedFree                      map[string]time.Duration // ref -> time seen waiting while someone fit
	fitting                         map[string]int64         // ref -> the volunteer who fitted it at the last check
	calls                           int
}

// snapshot is what a routing decision depended on: the database (as the count of calls
// into the core that could have changed it) and who was on duty.
type snapshot struct {
	calls int
	key   string
}

type volRow struct {
	ID       int64  `db:"id"`
	Status   string `db:"status"`
	OnUntil  int64  `db:"on_until"`
	OffUntil int64  `db:"off_until"`
}

// onDutyNow lists the volunteers on duty now by the core's own rule (bot.OnDuty), which
// is what the routing query asks of PostgreSQL.
func (s *Sim) onDutyNow() []int64 {
	if s.volRows == nil || s.volRowsAt != s.calls {
		s.volRows = s.volRows[:0]
		if err := s.eyes.DB.Select(&s.volRows, `SELECT id, status, on_until, off_until FROM volunteers ORDER BY id`); err != nil {
			s.fatal(err)
		}
		s.volRowsAt = s.calls
	}
	var out []int64
	for _, v := range s.volRows {
		bv := bot.Volunteer{ID: v.ID, Status: bot.VolunteerStatus(v.Status), OnUntil: fromMS(v.OnUntil), OffUntil: fromMS(v.OffUntil)}
		if bv.Status == bot.VolActive && bot.OnDuty(bv, s.shifts[v.ID], s.now()) {
			out = append(out, v.ID)
		}
	}
	return out
}

func (s *Sim) dutyKey() string { return fmt.Sprint(s.onDutyNow()) }

// room is a case room as the simulated bridge made it.
type room struct {
	caseID  int64
	members map[string]string // user -> "invite" | "join"
	human   bool              // a helper has written in it
}

type abort struct{ err error }

func (s *Sim) fatal(err error) { panic(abort{err}) }

func (s *Sim) now() time.Time { return time.UnixMilli(s.clock.Load()).UTC() }

// advance moves the clock forward (never back).
func (s *Sim) advance(t time.Time) {
	if ms := t.UnixMilli(); ms > s.clock.Load() {
		s.clock.Store(ms)
	}
}

// Run simulates a scenario and reports.
func Run(ctx context.Context, sc *Scenario, opt Options) (rep *Report, err error) {
	sc2 := *sc
	if opt.Volunteers > 0 {
		if sc2.Volunteers.Generate == nil {
			return nil, fmt.Errorf("--volunteers needs a scenario whose roster is generated (volunteers.generate)")
		}
		g := *sc2.Volunteers.Generate
		g.Count = opt.Volunteers
		sc2.Volunteers.Generate = &g
	}
	if opt.Staff > 0 {
		sc2.Staff.Count = opt.Staff
	}
	p, err := makePlan(&sc2)
	if err != nil {
		return nil, err
	}
	// Ends what the run started in the background (a watch for the database coming back).
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s := &Sim{sc: &sc2, plan: p, opt: opt, ctx: ctx, reqByConv: map[string]*requester{}, reqByID: map[string]*requester{},
		volByID: map[string]*volAgent{}, volByDM: map[string]*volAgent{}, staffByID: map[string]*staffAgent{},
		rooms: map[string]*room{}, breaches: map[string]*Breach{}, waitedFree: map[string]time.Duration{},
		storeNoticed: make(chan struct{}, 1), timersStale: true, queueStale: true, checkedAt: -1}
	s.end = sc2.Start.Add(sc2.Length.D() + sc2.Drain.D())
	s.clock.Store(sc2.Start.UnixMilli())
	if s.cat, err = i18n.Load(); err != nil {
		return nil, err
	}
	s.configure()
	dsn, drop, err := opt.Server.newDatabase(ctx)
	if err != nil {
		return nil, err
	}
	defer drop()
	s.eyesDSN = dsn
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	s.dataKey = base64.StdEncoding.EncodeToString(key)
	if s.proxy, s.botDSN, err = newFaultProxy(dsn); err != nil {
		return nil, err
	}
	defer s.proxy.close()
	if s.eyes, err = store.Open(ctx, s.eyesDSN, store.Options{MaxOpenConns: 4, DataKey: s.dataKey}, zerolog.Nop()); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrDatabase, err)
	}
	defer s.eyes.Close()
	if err := s.openBot(); err != nil {
		return nil, err
	}
	defer func() { s.st.Close() }()
	defer func() {
		if r := recover(); r != nil {
			a, ok := r.(abort)
			if !ok {
				panic(r)
			}
			rep, err = nil, a.err
		}
	}()
	started := time.Now()
	s.setUp()
	s.schedule()
	s.loop()
	s.checkState(true)
	rep, err = s.report()
	if err != nil {
		return nil, err
	}
	rep.Real = Duration(time.Since(started))
	rep.Calls = s.calls
	return rep, nil
}

// configure takes the deployment's rules and puts the scenario's people in them.
func (s *Sim) configure() {
	c := s.opt.Config
	c.StaffPlatform, c.StaffConversation = bot.Matrix, staffRoom
	c.CoordinatorsConversation, c.Coordinators = coordRoom, []string{coordID}
	c.VolunteersConversation = volRoom
	c.MatrixContact = "@switchboard:" + server
	c.Staff, c.OnCall = []string{admin}, nil
	for _, ps := range s.plan.staff {
		id := "@" + ps.Name + ":" + server
		c.Staff = append(c.Staff, id)
		c.OnCall = append(c.OnCall, id)
	}
	if s.sc.Staff.RotationPeriod > 0 {
		c.RotationPeriod, c.RotationStart = s.sc.Staff.RotationPeriod.D(), s.sc.Start
	}
	// Pages reach the simulated staff through the staff room's mentions; pager rows are
	// counted too when the deployment has a pager.
	s.cfg = c
}

// logWatch lets the simulator see the store say that the database is away, and counts
// what the core logs as a failure. It never sees message text: the core logs none.
type logWatch struct {
	s    *Sim
	core bool
}

func (w logWatch) Write(p []byte) (int, error) {
	if !w.core && bytes.Contains(p, []byte("Database unavailable")) {
		select {
		case w.s.storeNoticed <- struct{}{}:
		default:
		}
	}
	if w.core && bytes.Contains(p, []byte(`"level":"error"`)) {
		w.s.botErrors.Add(1)
	}
	return len(p), nil
}

// openBot starts the bot's store and core, as a (re)started process would.
func (s *Sim) openBot() error {
	st, err := store.Open(s.ctx, s.botDSN, store.Options{MaxOpenConns: 8, DataKey: s.dataKey}, zerolog.New(logWatch{s: s}))
	if err != nil {
		return fmt.Errorf("%w: %w", ErrDatabase, err)
	}
	s.st = st
	s.svc = bot.NewService(st, s.cat, s.cfg, nil, zerolog.New(logWatch{s: s, core: true}).Level(zerolog.WarnLevel), s.now)
	return nil
}

// event is something that happens at a time; bot events wait while the bot is down.
type event struct {
	at    time.Time
	orig  time.Time // when it was meant to happen, before waiting for the bot
	seq   int64
	toBot bool
	fn    func()
}

type eventQueue []*event

func (q eventQueue) Len() int { return len(q) }
func (q eventQueue) Less(i, j int) bool {
	if !q[i].at.Equal(q[j].at) {
		return q[i].at.Before(q[j].at)
	}
	return q[i].seq < q[j].seq
}
func (q eventQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *eventQueue) Push(x any)   { *q = append(*q, x.(*event)) }
func (q *eventQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

// at schedules fn; toBot marks something the bot must be up for.
func (s *Sim) at(t time.Time, toBot bool, fn func()) {
	s.seq++
	heap.Push(&s.q, &event{at: t, orig: t, seq: s.seq, toBot: toBot, fn: fn})
}

// after schedules a person's action d from now.
func (s *Sim) after(d time.Duration, fn func()) { s.at(s.now().Add(d), true, fn) }

// every runs fn at each multiple of step from the start while the simulation lasts.
func (s *Sim) every(step time.Duration, toBot bool, fn func()) {
	var tick func()
	next := s.sc.Start
	tick = func() {
		fn()
		next = next.Add(step)
		if !next.After(s.end) {
			s.at(next, toBot, tick)
		}
	}
	s.at(next, toBot, tick)
}

// schedule puts the week on the queue: arrivals, faults and the loops of app.Run.
func (s *Sim) schedule() {
	for _, r := range s.requesters {
		s.at(r.At, true, r.start)
	}
	for _, f := range s.sc.Faults {
		at, d := f.At.Time(s.sc.Start), f.For.D()
		switch f.Kind {
		case "restart":
			s.at(at, false, func() {
				s.botUpAt = at.Add(d)
				s.note(FaultResult{Kind: f.Kind, At: at, For: Duration(d)})
			})
			s.at(at.Add(d), false, s.restart)
		case "database-away":
			s.at(at, false, func() {
				s.proxy.down()
				s.dbAwayUntil = at.Add(d)
				s.note(FaultResult{Kind: f.Kind, At: at, For: Duration(d)})
			})
			s.at(at.Add(d), false, func() {
				if err := s.proxy.up(); err != nil {
					s.fatal(err)
				}
			})
		}
	}
	// app.Run offers waiting cases every minute; the check skips the transaction when
	// nothing waits, which changes nothing the sweep would do.
	s.every(routeEvery, true, func() {
		if s.queueStale {
			if err := s.eyes.DB.Get(&s.queued, `SELECT EXISTS (SELECT 1 FROM cases WHERE route = 'volunteer' AND state = 'queued')`); err != nil {
				s.fatal(err)
			}
			s.queueStale = false
		}
		if !s.queued {
			return
		}
		// The sweep's outcome depends on the database and on who is on duty now; when
		// neither changed since the last sweep, it would offer nothing again.
		key := s.dutyKey()
		if s.calls == s.routed.calls && key == s.routed.key {
			return
		}
		if !s.cfg.Broadcast && !s.anyoneFree() {
			s.routed = snapshot{s.calls, key}
			return
		}
		s.deliver(s.call("route waiting cases", s.svc.RouteWaiting))
		s.routed.calls, s.routed.key = s.calls, key
	})
	s.every(checkEvery, false, func() { s.checkState(false) })
	s.every(sampleStep, false, s.sample)
}

// loop runs events and the bot's timers in time order until the end.
func (s *Sim) loop() {
	lastProgress := time.Now()
	for s.q.Len() > 0 {
		if err := s.ctx.Err(); err != nil {
			s.fatal(err)
		}
		ev := s.q[0]
		evAt := later(ev.at, s.now())
		if ev.toBot {
			evAt = later(evAt, s.botUpAt)
		}
		if s.timersStale {
			var err error
			if s.nextTimer, err = s.eyes.NextTimer(s.ctx); err != nil {
				s.fatal(err)
			}
			s.timersStale = false
		}
		timerAt := s.nextTimer
		if !timerAt.IsZero() {
			timerAt = later(timerAt, s.now(), s.botUpAt)
			if timerAt.Before(evAt) && !timerAt.After(s.end) {
				s.advance(timerAt)
				s.fireTimers()
				continue
			}
		}
		heap.Pop(&s.q)
		if evAt.After(s.end) {
			continue
		}
		if ev.toBot && s.now().Before(s.botUpAt) && evAt.After(ev.at) {
			// Waits for the bot, in the order it came.
			s.seq++
			heap.Push(&s.q, &event{at: evAt, orig: ev.orig, seq: s.seq, toBot: true, fn: ev.fn})
			continue
		}
		s.advance(evAt)
		s.wrote = ev.orig
		ev.fn()
		if s.opt.Progress != nil && time.Since(lastProgress) > 10*time.Second {
			lastProgress = time.Now()
			fmt.Fprintf(s.opt.Progress, "sim: %s of %s simulated\n", s.now().Sub(s.sc.Start).Round(time.Minute), s.end.Sub(s.sc.Start))
		}
	}
}

func later(ts ...time.Time) time.Time {
	out := ts[0]
	for _, t := range ts[1:] {
		if t.After(out) {
			out = t
		}
	}
	return out
}

func (s *Sim) fireTimers() {
	for {
		n := 0
		rows := s.call("fire timers", func(ctx context.Context) (err error) {
			n, err = s.svc.FireDueTimers(ctx)
			return err
		})
		s.deliver(rows)
		if n == 0 {
			return
		}
	}
}

// call runs one entry point of the core and returns what it put in the outbox. While
// the database is away the call blocks in the store's retry loop, as in production;
// once the store has said so, the clock moves to the end of the outage and the
// database comes back.
func (s *Sim) call(what string, fn func(context.Context) error) []bot.Outgoing {
	if s.proxy.isDown() {
		select {
		case <-s.storeNoticed:
		default:
		}
		until := s.dbAwayUntil
		go func() {
			select {
			case <-s.storeNoticed:
			case <-s.ctx.Done():
				return
			}
			s.advance(until)
			_ = s.proxy.up()
		}()
		s.faultSeen("database-away", what)
	}
	err := fn(s.ctx)
	s.calls++
	s.timersStale, s.queueStale = true, true
	if err != nil {
		s.fatal(fmt.Errorf("%s: %w", what, err))
	}
	return s.drain()
}

// drain is the bridges' half of the outbox: take every row out, as sent.
func (s *Sim) drain() []bot.Outgoing {
	var out []bot.Outgoing
	platforms := []bot.Platform{bot.Matrix, bot.IRC}
	if s.cfg.Pager {
		platforms = append(platforms, bot.Pager)
	}
	for _, p := range platforms {
		for {
			msgs, err := s.st.PendingOutbox(s.ctx, p, 0, 500)
			if err != nil {
				s.fatal(err)
			}
			for _, m := range msgs {
				if err := s.st.OutboxSent(s.ctx, m.ID); err != nil {
					s.fatal(err)
				}
			}
			out = append(out, msgs...)
			if len(msgs) < 500 {
				break
			}
		}
	}
	return out
}

// handle delivers one inbound event and carries out what it caused. When a requester
// wrote text, it must reach someone: an answer where they wrote, their words passed into
// the room of whoever works the case, or read there by them.
func (s *Sim) handle(in bot.Inbound, from *requester) (rows []bot.Outgoing, reached reach) {
	s.evID++
	in.EventID = fmt.Sprintf("$sim%d", s.evID)
	if from == nil && in.Platform == bot.Matrix {
		// Staff, coordinators and volunteers write from devices they cross-signed, as the
		// bridge reports them; a requester is never asked to verify anything.
		in.Device = bot.DeviceVerified
	}
	rows = s.call("handle", func(ctx context.Context) error { return s.svc.Handle(ctx, in) })
	if in.Platform == bot.Matrix {
		s.recent = append(s.recent, in)
		if len(s.recent) > 3 {
			s.recent = s.recent[1:]
		}
	}
	if from != nil {
		reached = s.checkAnswered(in, from, rows)
	}
	s.deliver(rows)
	return rows, reached
}

// reach is where a requester's message went.
type reach int

const (
	reachedNobody reach = iota
	answered            // the bot answered where they wrote
	reachedHelper       // passed into the case room (relayed), or written there while a helper is in it
)

// isMessage: a row that a bridge sends as a message, plain or relayed (bot.ActionRelay,
// the default for case rooms: a relayed row is what the people on the other side read).
func isMessage(m bot.Outgoing) bool { return m.Action == "" || m.Action == bot.ActionRelay }

func (s *Sim) checkAnswered(in bot.Inbound, from *requester, rows []bot.Outgoing) reach {
	words := strings.TrimPrefix(in.Text, "!add ")
	for _, m := range rows {
		if isMessage(m) && s.rooms[m.Conversation] != nil && m.Conversation != in.Conversation && strings.Contains(m.Plain, words) {
			return reachedHelper
		}
	}
	if in.Group && s.workedHere(in.Conversation) {
		return reachedHelper
	}
	for _, m := range rows {
		if isMessage(m) && m.Conversation == in.Conversation {
			return answered
		}
	}
	s.breach("unanswered", from.ref(), fmt.Sprintf("what %s wrote in %s reached nobody and got no answer", from.id, in.Conversation))
	return reachedNobody
}

// checkHeard: a helper's words in a case room must reach its requester, relayed to
// where they wrote to the bot (relayed rooms, IRC), or read in the room they are in.
func (s *Sim) checkHeard(roomID string, rows []bot.Outgoing) {
	var c struct {
		Ref  string `db:"ref"`
		Conv string `db:"conversation"`
		Who  string `db:"external_id"`
	}
	if err := s.eyes.DB.Get(&c, `SELECT c.ref, c.conversation, p.external_id FROM cases c JOIN people p ON p.id = c.person_id
		WHERE c.room_id = $1`, roomID); err != nil {
		s.fatal(err)
	}
	for _, m := range rows {
		if isMessage(m) && m.Conversation == c.Conv && strings.Contains(m.Plain, humanWords) {
			return
		}
	}
	if rm := s.rooms[roomID]; rm != nil && rm.members[c.Who] != "" {
		return // shared room: they read it there (on joining, if only invited)
	}
	s.breach("unheard", c.Ref, "a helper's words in the case room did not reach the requester")
}

// workedHere reports whether someone working the room's case is joined there.
func (s *Sim) workedHere(roomID string) bool {
	var workers []string
	if err := s.eyes.DB.Select(&workers, `SELECT u FROM cases c
		LEFT JOIN volunteers v ON v.id = c.volunteer_id LEFT JOIN volunteers m ON m.id = c.mentor_id,
		unnest(ARRAY[c.staff_id, coalesce(v.user_id, ''), coalesce(m.user_id, '')]) u
		WHERE c.room_id = $1 AND c.state IN ('accepted', 'active') AND u <> ''`, roomID); err != nil {
		s.fatal(err)
	}
	for _, w := range workers {
		if r := s.rooms[roomID]; r != nil && r.members[w] == "join" {
			return true
		}
	}
	return false
}

// deliver is the bridges' other half: carry out the room actions and hand each message
// to whoever it is for.
func (s *Sim) deliver(rows []bot.Outgoing) {
	for _, m := range rows {
		switch m.Action {
		case bot.ActionCreateRoom:
			s.roomSeq++
			roomID := fmt.Sprintf("!room%d:%s", s.roomSeq, server)
			rm := &room{caseID: m.Payload.CaseID, members: map[string]string{}}
			s.rooms[roomID] = rm
			for _, u := range m.Payload.Users {
				rm.members[u] = "invite"
			}
			caseID := m.Payload.CaseID
			s.deliver(s.call("room created", func(ctx context.Context) error { return s.svc.RoomCreated(ctx, caseID, roomID) }))
			for _, u := range m.Payload.Users {
				s.invited(u, roomID)
			}
		case bot.ActionInvite:
			rm := s.rooms[m.Payload.Room]
			if rm == nil {
				s.breach("lost-room", "", "an invitation to a room the bridge never made")
				continue
			}
			for _, u := range m.Payload.Users {
				if rm.members[u] == "" {
					rm.members[u] = "invite"
					s.invited(u, m.Payload.Room)
				}
			}
		case bot.ActionMembers, bot.ActionRemove:
			rm := s.rooms[m.Payload.Room]
			if rm == nil {
				continue
			}
			for u := range rm.members {
				keep := slicesContains(m.Payload.Users, u)
				if m.Action == bot.ActionRemove {
					keep = !keep
				}
				if !keep {
					delete(rm.members, u)
				}
			}
		case bot.ActionPage:
			s.rep.PagerRows++
		case bot.ActionPageAck, bot.ActionPageResolve:
		case "", bot.ActionRelay:
			s.message(m)
		}
	}
}

func slicesContains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func (s *Sim) invited(user, roomID string) {
	switch {
	case s.reqByID[user] != nil:
		s.reqByID[user].invited(roomID)
	case s.volByID[user] != nil:
		s.volByID[user].invited(roomID)
	case s.staffByID[user] != nil:
		s.staffByID[user].invited(roomID)
	}
}

// message hands a message to its readers.
func (s *Sim) message(m bot.Outgoing) {
	if strings.Contains(m.Plain, s.apology()) {
		s.breach("apology", "", "the bot answered with its apology for an internal fault")
	}
	switch {
	case m.Conversation == staffRoom:
		for _, who := range m.Mentions {
			if a := s.staffByID[who]; a != nil {
				a.paged(m)
			}
		}
	case m.Conversation == coordRoom:
		if m.Notice {
			s.rep.QueueAlerts++
		} else if s.rep.Coverage == "" && strings.Contains(m.Plain, "UTC") {
			s.rep.Coverage = m.Plain
		}
	case m.Conversation == volRoom:
		for _, v := range s.vols {
			v.announced(m)
		}
	case s.reqByConv[m.Conversation] != nil:
		s.reqByConv[m.Conversation].onMessage(m)
	case s.volByDM[m.Conversation] != nil:
		s.volByDM[m.Conversation].onMessage(m)
	}
}

var apologyText string

func (s *Sim) apology() string {
	if apologyText == "" {
		apologyText, _ = s.cat.Render("en", "switchboard-internal-error")
		apologyText = strings.SplitN(apologyText, "\n", 2)[0]
	}
	return apologyText
}

// restart is the bot coming back after a crash: a new process on the same database,
// and Matrix handing over again the events of the sync batch it was in.
func (s *Sim) restart() {
	s.st.Close()
	if err := s.openBot(); err != nil {
		s.fatal(err)
	}
	s.faultSeen("restart", "restarted")
	for _, in := range s.recent {
		rows := s.call("redeliver", func(ctx context.Context) error { return s.svc.Handle(ctx, in) })
		if len(rows) > 0 {
			s.breach("redelivered", "", fmt.Sprintf("a redelivered event (%s) was acted on again", in.EventID))
		}
		s.rep.Redelivered++
	}
	s.recent = nil
}

// wakeWaitlist starts app.Run's waitlist loop (every second) while someone is in line.
func (s *Sim) wakeWaitlist() {
	if s.waitlistTicking {
		return
	}
	s.waitlistTicking = true
	var tick func()
	tick = func() {
		s.deliver(s.call("drain the waitlist", func(ctx context.Context) error {
			_, err := s.svc.DrainWaitlist(ctx)
			return err
		}))
		var n int
		if err := s.eyes.DB.Get(&n, `SELECT count(*) FROM intake_waitlist`); err != nil {
			s.fatal(err)
		}
		if n == 0 {
			s.waitlistTicking = false
			return
		}
		s.after(time.Second, tick)
	}
	s.after(time.Second, tick)
}

// note records a fault as it begins.
func (s *Sim) note(f FaultResult) { s.rep.Faults = append(s.rep.Faults, f) }

// faultSeen records what the bot did during the current fault.
func (s *Sim) faultSeen(kind, what string) {
	for i := len(s.rep.Faults) - 1; i >= 0; i-- {
		if f := &s.rep.Faults[i]; f.Kind == kind {
			f.Calls++
			if f.FirstCall == "" {
				f.FirstCall = what
			}
			return
		}
	}
}

// breach records an invariant broken; the same kind and case count once, with how often.
func (s *Sim) breach(kind, ref, detail string) {
	key := kind + "|" + ref
	if ref == "" {
		key += "|" + detail
	}
	if b := s.breaches[key]; b != nil {
		b.Times++
		b.Last = s.now()
		return
	}
	s.breaches[key] = &Breach{Kind: kind, Ref: ref, Detail: detail, First: s.now(), Last: s.now(), Times: 1}
}
