package sim

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"time"

	"switchboard/bot"
)

// Report is what a run measured. Every duration is simulated time.
type Report struct {
	Scenario    string    `json:"scenario"`
	Seed        uint64    `json:"seed"`
	Start       time.Time `json:"start"`
	ArrivalsEnd time.Time `json:"arrivals_end"`
	End         time.Time `json:"end"`
	Target      Duration  `json:"target_p95_to_human"`
	Rules       string    `json:"rules"`
	Volunteers  int       `json:"volunteers"`
	Staff       int       `json:"staff"`
	Primary     string    `json:"primary_on_call_at_start,omitempty"`

	Requests     int `json:"requests"`
	StaffRoute   int `json:"staff_route"`
	IRC          int `json:"irc"`
	InBursts     int `json:"in_bursts"`
	Abandoned    int `json:"abandoned_intake"`
	GaveUp       int `json:"gave_up_waiting"`
	NeverInTake  int `json:"never_got_an_intake"`
	StillWaiting int `json:"still_waiting_at_end"`
	Helped       int `json:"reached_a_human"`
	Escalated    int `json:"escalated"`
	// ReadHelper: requesters who read a helper's words (relayed to them, or in the room);
	// Replied: those whose answer to them reached the helper.
	ReadHelper    int      `json:"read_a_helper"`
	Replied       int      `json:"replied_to_a_helper"`
	WaitedForFree Duration `json:"waited_while_a_volunteer_was_free"`

	FirstReply      Summary `json:"first_reply"`
	ToHuman         Summary `json:"to_a_human"`
	FirstHumanReply Summary `json:"first_human_reply"`
	ByLanguage      []Group `json:"by_language"`
	ByHour          []Group `json:"by_hour_utc"`

	Offers       int     `json:"offers"`
	OfferedCases int     `json:"offered_cases"`
	OffersMax    int     `json:"offers_max_per_case"`
	OffersMean   float64 `json:"offers_per_offered_case"`
	Declines     int     `json:"declines"`
	Expiries     int     `json:"expiries"`
	Pages        int     `json:"pages"`
	PagedCases   int     `json:"paged_cases"`
	PagerRows    int     `json:"pager_rows"`
	Ack          Summary `json:"time_to_ack"`
	NeverAcked   int     `json:"never_acked"`
	QueueAlerts  int     `json:"queue_alerts"`
	Redelivered  int     `json:"redelivered_events"`
	BotErrors    int64   `json:"bot_errors_logged"`

	Faults   []FaultResult `json:"faults"`
	Worst    *CaseResult   `json:"worst_case"`
	Breaches []Breach      `json:"breaches"`
	Cases    []CaseResult  `json:"cases"`
	Series   []Sample      `json:"series"`
	Roster   []RosterLine  `json:"roster"`
	Coverage string        `json:"coverage_at_start"`

	Real  Duration `json:"real_time"`
	Calls int      `json:"calls_into_the_core"`
}

// Summary is a distribution: nearest-rank percentiles. Requests still waiting count
// with their wait so far, so a percentile they reach is only a lower bound (AtLeast).
type Summary struct {
	N       int      `json:"n"`
	Open    int      `json:"still_open"`
	P50     Duration `json:"p50"`
	P95     Duration `json:"p95"`
	Max     Duration `json:"max"`
	P50Min  bool     `json:"p50_at_least,omitempty"`
	P95Min  bool     `json:"p95_at_least,omitempty"`
	MaxMin  bool     `json:"max_at_least,omitempty"`
	Present bool     `json:"-"`
}

// Group is the three waits for one language or hour.
type Group struct {
	Key             string  `json:"key"`
	FirstReply      Summary `json:"first_reply"`
	ToHuman         Summary `json:"to_a_human"`
	FirstHumanReply Summary `json:"first_human_reply"`
}

// CaseResult is one request, start to end.
type CaseResult struct {
	N               int       `json:"n"`
	Requester       string    `json:"requester"`
	Ref             string    `json:"ref,omitempty"`
	Route           string    `json:"route,omitempty"`
	Outcome         string    `json:"outcome"`
	Language        string    `json:"language"`
	Platform        string    `json:"platform"`
	Arrival         time.Time `json:"arrival"`
	Burst           bool      `json:"burst,omitempty"`
	FirstReply      *Duration `json:"first_reply,omitempty"`
	ToHuman         *Duration `json:"to_a_human,omitempty"`
	FirstHumanReply *Duration `json:"first_human_reply,omitempty"`
	// Waited is how long they waited for a human without one (when they never got one).
	Waited          Duration  `json:"waited_without_a_human,omitempty"`
	Offers          int       `json:"offers"`
	Declines        int       `json:"declines"`
	Expiries        int       `json:"expiries"`
	Pages           int       `json:"pages"`
	Ack             *Duration `json:"ack,omitempty"`
	WaitedWhileFree Duration  `json:"waited_while_a_volunteer_was_free,omitempty"`
	// ReadHelper: they read a helper's first words; Replied: their answer reached the
	// helper (a simulated requester answers only while their case is active).
	ReadHelper bool   `json:"read_a_helper,omitempty"`
	Replied    bool   `json:"replied_to_a_helper,omitempty"`
	Escalated  bool   `json:"escalated,omitempty"`
	Timeline   []Line `json:"timeline,omitempty"`
}

// Line is one moment of a timeline.
type Line struct {
	At    time.Time `json:"at"`
	After Duration  `json:"after"`
	What  string    `json:"what"`
}

// Breach is an invariant broken: someone fell through.
type Breach struct {
	Kind   string    `json:"kind"`
	Ref    string    `json:"ref,omitempty"`
	Detail string    `json:"detail"`
	First  time.Time `json:"first_seen"`
	Last   time.Time `json:"last_seen"`
	Times  int       `json:"times_seen"`
}

// FaultResult is a fault and what the bot went through.
type FaultResult struct {
	Kind      string    `json:"kind"`
	At        time.Time `json:"at"`
	For       Duration  `json:"for"`
	Calls     int       `json:"calls_affected"`
	FirstCall string    `json:"first_call,omitempty"`
}

// Sample is the state of the queues at one moment.
type Sample struct {
	At         time.Time `json:"at" db:"-"`
	Queue      int       `json:"queue" db:"queue"`
	StaffQueue int       `json:"staff_queue" db:"staff_queue"`
	InHand     int       `json:"in_hand" db:"in_hand"`
	OnDuty     int       `json:"on_duty" db:"-"`
}

// RosterLine is one volunteer as planned.
type RosterLine struct {
	Name      string   `json:"name"`
	Languages []string `json:"languages"`
	Shifts    []string `json:"shifts"`
}

func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	*d = Duration(v)
	return err
}

// obs is one wait: exact, or a lower bound when the request is still open.
type obs struct {
	d    time.Duration
	open bool
}

func summarize(xs []obs) Summary {
	s := Summary{N: len(xs), Present: len(xs) > 0}
	if len(xs) == 0 {
		return s
	}
	sort.SliceStable(xs, func(i, j int) bool { return xs[i].d < xs[j].d })
	at := func(p float64) (Duration, bool) {
		i := int(math.Ceil(p*float64(len(xs)))) - 1
		i = max(0, min(i, len(xs)-1))
		lower := false
		for _, x := range xs[:i+1] {
			lower = lower || x.open
		}
		return Duration(xs[i].d), lower
	}
	s.P50, s.P50Min = at(0.5)
	s.P95, s.P95Min = at(0.95)
	s.Max, s.MaxMin = at(1)
	for _, x := range xs {
		if x.open {
			s.Open++
		}
	}
	return s
}

type caseRow struct {
	ID           int64  `db:"id"`
	Ref          string `db:"ref"`
	Route        string `db:"route"`
	State        string `db:"state"`
	Language     string `db:"language"`
	External     string `db:"external_id"`
	Platform     string `db:"platform"`
	CreatedAt    int64  `db:"created_at"`
	FirstReplyAt int64  `db:"first_reply_at"`
	ClosedAt     int64  `db:"closed_at"`
	IntakeID     int64  `db:"intake_id"`
}

type eventRow struct {
	CaseID   int64  `db:"case_id"`
	IntakeID int64  `db:"intake_id"`
	Kind     string `db:"kind"`
	Actor    string `db:"actor"`
	Subject  string `db:"subject"`
	At       int64  `db:"at"`
	Detail   string `db:"detail"`
}

// report reads the week back from the database (the audit log is the record of what
// happened) and the people's own observations.
func (s *Sim) report() (*Report, error) {
	rep := s.rep
	c := s.cfg
	mode := "direct"
	if c.Broadcast {
		mode = "broadcast"
	}
	rooms := "relayed"
	if c.SharedRooms {
		rooms = "shared"
	}
	repage := "then no more"
	if c.RepageEvery > 0 {
		repage = fmt.Sprintf("then everyone every %v", c.RepageEvery)
	}
	rep.Rules = fmt.Sprintf("%s routing, %s case rooms, offer expiry %v, default limit %d, ack timeout %v × %d rounds (%s), queue alert after %v, intake rate %.0f/min (burst %d)",
		mode, rooms, c.OfferExpiry, c.DefaultCaseLimit, c.AckTimeout, c.MaxRounds, repage, c.QueueAlertAfter, c.IntakeRate, c.IntakeBurst)
	rep.BotErrors = s.botErrors.Load()
	var cases []caseRow
	if err := s.eyes.DB.Select(&cases, `SELECT c.id, c.ref, c.route, c.state, c.language, p.external_id, p.platform, c.created_at,
		c.first_reply_at, c.closed_at, c.intake_id FROM cases c JOIN people p ON p.id = c.person_id ORDER BY c.id`); err != nil {
		return nil, err
	}
	var events []eventRow
	if err := s.eyes.DB.Select(&events, `SELECT coalesce(case_id, 0) AS case_id, coalesce(intake_id, 0) AS intake_id, kind, actor, subject, at, detail::text AS detail
		FROM case_events ORDER BY id`); err != nil {
		return nil, err
	}
	byCase := map[int64][]eventRow{}
	byIntake := map[int64][]eventRow{}
	for _, e := range events {
		if e.CaseID != 0 {
			byCase[e.CaseID] = append(byCase[e.CaseID], e)
		} else if e.IntakeID != 0 {
			byIntake[e.IntakeID] = append(byIntake[e.IntakeID], e)
		}
	}
	firstCase := map[string]caseRow{}
	for _, cr := range cases {
		if _, ok := firstCase[cr.Platform+"|"+cr.External]; !ok {
			firstCase[cr.Platform+"|"+cr.External] = cr
		}
	}
	var first, human, humanReply, ack []obs
	langs, hours := map[string]*[3][]obs{}, map[string]*[3][]obs{}
	group := func(m map[string]*[3][]obs, k string) *[3][]obs {
		if m[k] == nil {
			m[k] = &[3][]obs{}
		}
		return m[k]
	}
	offered := 0
	var worst *CaseResult
	var worstWait time.Duration
	for _, r := range s.requesters {
		res := CaseResult{N: r.N, Requester: r.id, Language: r.Language, Platform: string(r.Platform), Arrival: r.At.UTC(), Burst: r.Burst,
			ReadHelper: r.humanSeen, Replied: r.replied}
		rep.Requests++
		if r.Platform == bot.IRC {
			rep.IRC++
		}
		if r.Burst {
			rep.InBursts++
		}
		if r.humanSeen {
			rep.ReadHelper++
		}
		if r.replied {
			rep.Replied++
		}
		lg, hr := group(langs, r.Language), group(hours, fmt.Sprintf("%02d", r.At.UTC().Hour()))
		if !r.firstReplyAt.IsZero() {
			d := Duration(r.firstReplyAt.Sub(r.At))
			res.FirstReply = &d
			first = append(first, obs{d: d.D()})
			lg[0], hr[0] = append(lg[0], obs{d: d.D()}), append(hr[0], obs{d: d.D()})
		} else {
			o := obs{d: s.end.Sub(r.At), open: true}
			first = append(first, o)
			lg[0], hr[0] = append(lg[0], o), append(hr[0], o)
		}
		cr, ok := firstCase[string(r.Platform)+"|"+r.id]
		if !ok {
			res.Outcome = "abandoned the intake"
			if r.inLine {
				res.Outcome = "never got an intake"
				rep.NeverInTake++
			} else {
				rep.Abandoned++
			}
			rep.Cases = append(rep.Cases, res)
			continue
		}
		res.Ref, res.Route, res.Language = cr.Ref, cr.Route, cr.Language
		if res.Language == "" {
			res.Language = r.Language
		}
		if cr.Route == string(bot.RouteStaff) {
			rep.StaffRoute++
		}
		var humanAt, firstPage, ackAt, endAt time.Time
		for _, e := range byCase[cr.ID] {
			at := time.UnixMilli(e.At)
			switch bot.EventKind(e.Kind) {
			case bot.EventAccepted, bot.EventAcked:
				if humanAt.IsZero() {
					humanAt = at
				}
				if bot.EventKind(e.Kind) == bot.EventAcked && ackAt.IsZero() {
					ackAt = at
				}
			case bot.EventOffered:
				res.Offers++
			case bot.EventOfferDeclined:
				res.Declines++
			case bot.EventOfferExpired:
				res.Expiries++
			case bot.EventPaged:
				res.Pages++
				if firstPage.IsZero() {
					firstPage = at
				}
			case bot.EventEscalated:
				rep.Escalated++
				res.Escalated = true
			case bot.EventCaseWithdrawn, bot.EventCaseClosed:
				if endAt.IsZero() {
					endAt = at
				}
			}
		}
		rep.Offers += res.Offers
		rep.Declines += res.Declines
		rep.Expiries += res.Expiries
		rep.Pages += res.Pages
		if res.Offers > 0 {
			offered++
			rep.OffersMax = max(rep.OffersMax, res.Offers)
		}
		if res.Pages > 0 {
			rep.PagedCases++
			if ackAt.IsZero() {
				rep.NeverAcked++
				ack = append(ack, obs{d: s.end.Sub(firstPage), open: true})
			} else {
				d := Duration(ackAt.Sub(firstPage))
				res.Ack = &d
				ack = append(ack, obs{d: d.D()})
			}
		}
		waitEnd := s.end
		if !endAt.IsZero() {
			waitEnd = endAt
		}
		var wait time.Duration
		switch {
		case !humanAt.IsZero():
			d := Duration(humanAt.Sub(r.At))
			res.ToHuman, res.Outcome, wait = &d, "reached a human", d.D()
			rep.Helped++
			human = append(human, obs{d: d.D()})
			lg[1], hr[1] = append(lg[1], obs{d: d.D()}), append(hr[1], obs{d: d.D()})
		default:
			wait = waitEnd.Sub(r.At)
			res.Waited = Duration(wait)
			res.Outcome = "still waiting at the end"
			switch {
			case r.gaveUp:
				res.Outcome = "gave up waiting"
				rep.GaveUp++
			case cr.State == string(bot.StateWithdrawn):
				res.Outcome = "withdrew"
			default:
				rep.StillWaiting++
			}
			o := obs{d: wait, open: true}
			human = append(human, o)
			lg[1], hr[1] = append(lg[1], o), append(hr[1], o)
		}
		if cr.FirstReplyAt != 0 {
			d := Duration(time.UnixMilli(cr.FirstReplyAt).Sub(r.At))
			res.FirstHumanReply = &d
			humanReply = append(humanReply, obs{d: d.D()})
			lg[2], hr[2] = append(lg[2], obs{d: d.D()}), append(hr[2], obs{d: d.D()})
		} else {
			o := obs{d: waitEnd.Sub(r.At), open: true}
			humanReply = append(humanReply, o)
			lg[2], hr[2] = append(lg[2], o), append(hr[2], o)
		}
		res.WaitedWhileFree = Duration(s.waitedFree[cr.Ref])
		rep.WaitedForFree += res.WaitedWhileFree
		rep.Cases = append(rep.Cases, res)
		if worst == nil || wait > worstWait {
			w := res
			worst, worstWait = &w, wait
			worst.Timeline = s.timeline(r, cr, byCase[cr.ID], byIntake)
		}
	}
	if offered > 0 {
		rep.OfferedCases = offered
		rep.OffersMean = float64(rep.Offers) / float64(offered)
	}
	rep.FirstReply, rep.ToHuman, rep.FirstHumanReply, rep.Ack = summarize(first), summarize(human), summarize(humanReply), summarize(ack)
	rep.ByLanguage = groups(langs)
	rep.ByHour = groups(hours)
	rep.Worst = worst
	for _, b := range s.breaches {
		rep.Breaches = append(rep.Breaches, *b)
	}
	sort.Slice(rep.Breaches, func(i, j int) bool {
		if !rep.Breaches[i].First.Equal(rep.Breaches[j].First) {
			return rep.Breaches[i].First.Before(rep.Breaches[j].First)
		}
		return rep.Breaches[i].Kind+rep.Breaches[i].Ref < rep.Breaches[j].Kind+rep.Breaches[j].Ref
	})
	return rep, nil
}

func groups(m map[string]*[3][]obs) []Group {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]Group, 0, len(keys))
	for _, k := range keys {
		g := m[k]
		out = append(out, Group{Key: k, FirstReply: summarize(g[0]), ToHuman: summarize(g[1]), FirstHumanReply: summarize(g[2])})
	}
	return out
}

// timeline merges what the requester saw and did with the audit log of their intake and
// case. People are named by their simulated names; nobody's words are in the audit log.
func (s *Sim) timeline(r *requester, cr caseRow, caseEvents []eventRow, byIntake map[int64][]eventRow) []Line {
	var lines []Line
	add := func(at time.Time, what string) {
		lines = append(lines, Line{At: at.UTC(), After: Duration(at.Sub(r.At)), What: what})
	}
	for _, e := range r.timeline {
		add(e.At, e.What)
	}
	for _, e := range append(append([]eventRow{}, byIntake[cr.IntakeID]...), caseEvents...) {
		what := "audit: " + e.Kind
		if who := s.label(e.Actor); who != "" && who != "requester" {
			what += " by " + who
		}
		if e.Subject != "" && e.Subject != e.Actor {
			what += " (" + s.label(e.Subject) + ")"
		}
		add(time.UnixMilli(e.At), what)
	}
	sort.SliceStable(lines, func(i, j int) bool { return lines[i].At.Before(lines[j].At) })
	return lines
}

// label is a short name for a simulated person.
func (s *Sim) label(id string) string {
	id = strings.TrimSuffix(strings.TrimPrefix(id, "@"), ":"+server)
	return strings.TrimPrefix(id, "vol-")
}

// WriteJSON writes the report as indented JSON.
func (rep *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// fd formats a simulated duration briefly: 0s, 45s, 12m, 3h05m, 2d04h.
func fd(d Duration) string {
	t := time.Duration(d)
	switch {
	case t < time.Minute:
		return fmt.Sprintf("%ds", int(t.Seconds()))
	case t < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(t.Minutes()), int(t.Seconds())%60)
	case t < 48*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(t.Hours()), int(t.Minutes())%60)
	}
	return fmt.Sprintf("%dd%02dh", int(t.Hours())/24, int(t.Hours())%24)
}

func (s Summary) cells() string {
	if !s.Present {
		return fmt.Sprintf("%4d %9s %9s %9s", 0, "-", "-", "-")
	}
	f := func(d Duration, atLeast bool) string {
		if atLeast {
			return "≥" + fd(d)
		}
		return fd(d)
	}
	return fmt.Sprintf("%4d %9s %9s %9s", s.N, f(s.P50, s.P50Min), f(s.P95, s.P95Min), f(s.Max, s.MaxMin))
}

// WriteText writes the report for people.
func (rep *Report) WriteText(w io.Writer) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	day := "Mon 2006-01-02 15:04 UTC"
	p("Switchboard simulation: %s (seed %d)\n", rep.Scenario, rep.Seed)
	p("Requests arrive %s – %s; the simulation runs on to %s.\n", rep.Start.UTC().Format(day), rep.ArrivalsEnd.UTC().Format(day), rep.End.UTC().Format(day))
	p("Roster: %d volunteers; on call: %d staff", rep.Volunteers, rep.Staff)
	if rep.Primary != "" {
		p(" (paged first at the start: %s)", rep.Primary)
	}
	p(".\nRules: %s.\n\n", rep.Rules)
	p("Requests: %d (%d on the staff route, %d on IRC, %d in bursts). %d reached a human; %d escalated by a volunteer.\n",
		rep.Requests, rep.StaffRoute, rep.IRC, rep.InBursts, rep.Helped, rep.Escalated)
	p("%d read a helper's words and %d answered them (their answer reached the helper).\n", rep.ReadHelper, rep.Replied)
	p("Not helped: %d stopped answering the intake, %d never got past the busy line, %d gave up waiting, %d still waiting at the end.\n\n",
		rep.Abandoned, rep.NeverInTake, rep.GaveUp, rep.StillWaiting)
	p("%-22s %4s %9s %9s %9s\n", "wait (from the first message)", "n", "p50", "p95", "max")
	p("%-22s %s\n", "first reply", rep.FirstReply.cells())
	p("%-22s %s\n", "to a human", rep.ToHuman.cells())
	p("%-22s %s\n", "first human reply", rep.FirstHumanReply.cells())
	p("(≥: a request still waiting when the simulation ended counts with its wait so far.)\n\n")
	table := func(title string, gs []Group) {
		p("%s\n%-6s %4s %9s %9s %9s   %4s %9s %9s %9s\n", title, "", "n", "human p50", "p95", "max", "n", "reply p50", "p95", "max")
		for _, g := range gs {
			p("%-6s %s   %s\n", g.Key, g.ToHuman.cells(), g.FirstHumanReply.cells())
		}
		p("\n")
	}
	table("By language: to a human | first human reply", rep.ByLanguage)
	table("By hour of arrival (UTC): to a human | first human reply", rep.ByHour)
	p("Offers: %d to %d cases (%.1f a case, at most %d); %d declined, %d expired unanswered.\n",
		rep.Offers, rep.OfferedCases, rep.OffersMean, rep.OffersMax, rep.Declines, rep.Expiries)
	p("Pages: %d for %d staff-route cases", rep.Pages, rep.PagedCases)
	if rep.Ack.Present {
		p("; time to !ack %s/%s/%s (p50/p95/max)", fd(rep.Ack.P50), fd(rep.Ack.P95), fd(rep.Ack.Max))
	}
	p("; %d never acknowledged.\n", rep.NeverAcked)
	p("Coordinators got %d queue alerts.", rep.QueueAlerts)
	if rep.WaitedForFree > 0 {
		p(" Requests spent %s in all queued while a volunteer who fits was free.", fd(rep.WaitedForFree))
	}
	p("\n")
	for _, f := range rep.Faults {
		p("Fault: %s at %s for %s: %d calls into the core waited it out", f.Kind, f.At.UTC().Format(day), fd(f.For), f.Calls)
		if f.Kind == "restart" {
			p(", %d events redelivered", rep.Redelivered)
		}
		p(".\n")
	}
	if rep.BotErrors > 0 {
		p("The core logged %d errors.\n", rep.BotErrors)
	}
	if wc := rep.Worst; wc != nil {
		p("\nWorst case: %s (%s, %s, %s, arrived %s): ", orDash(wc.Ref), wc.Requester, wc.Language, wc.Route, wc.Arrival.Format(day))
		if wc.ToHuman != nil {
			p("a human after %s", fd(*wc.ToHuman))
		} else {
			p("%s, after %s without a human", wc.Outcome, fd(wc.Waited))
		}
		p(".\n")
		for i, l := range wc.Timeline {
			if n := len(wc.Timeline); n > 70 && i >= 35 && i < n-30 {
				if i == 35 {
					p("  … %d more lines in the JSON report …\n", n-65)
				}
				continue
			}
			p("  +%-8s %s  %s\n", fd(l.After), l.At.Format("Mon 15:04:05"), l.What)
		}
	}
	p("\nInvariant breaches: ")
	if len(rep.Breaches) == 0 {
		p("none.\n")
	} else {
		p("%d.\n", len(rep.Breaches))
		for _, b := range rep.Breaches {
			p("  %-20s %-9s %s (first %s", b.Kind, orDash(b.Ref), b.Detail, b.First.UTC().Format("Mon 15:04"))
			if b.Times > 1 {
				p(", seen %d times to %s", b.Times, b.Last.UTC().Format("Mon 15:04"))
			}
			p(")\n")
		}
	}
	p("\n(%s of real time for %d calls into the core.)\n", time.Duration(rep.Real).Round(time.Second), rep.Calls)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
