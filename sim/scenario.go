// Package sim runs Switchboard's real core (package bot) and store (package store) on a
// throwaway PostgreSQL over a simulated week: a clock the simulator moves, and simulated
// people (requesters, volunteers on shifts in real time zones, staff on call) in place of
// Matrix and IRC. It measures what nobody measures in a help desk: how long people wait
// for a first answer, for a human and for a human's first words, and whether anyone is
// left alone. See docs/simulation.md.
//
// Nothing here decides anything the bot decides: the simulated people only read what
// the bot sent them (and the database, as their eyes), and answer through
// bot.Service.Handle like the bridges do.
package sim

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"switchboard/bot"
)

// Scenario is a week.yaml: who asks for help and when, who helps and how, and what
// goes wrong.
type Scenario struct {
	Name string `yaml:"name"`
	// Start is when the simulated week begins (RFC 3339).
	Start time.Time `yaml:"start"`
	// Length is how long requests arrive; Drain is how long the simulation goes on
	// afterwards without new ones, so that late requests can finish.
	Length Duration `yaml:"length"`
	Drain  Duration `yaml:"drain"`
	Seed   uint64   `yaml:"seed"`
	// Database is the URL of a PostgreSQL server on which the simulator creates (and
	// afterwards drops) a database of its own. Empty: a throwaway cluster.
	Database string `yaml:"database"`
	// Target is the wait for a human that a sweep must keep the p95 under.
	Target Duration `yaml:"target"`

	Arrivals   Arrivals   `yaml:"arrivals"`
	Requesters Requesters `yaml:"requesters"`
	Volunteers Volunteers `yaml:"volunteers"`
	Staff      Staff      `yaml:"staff"`
	Faults     []Fault    `yaml:"faults"`
}

// Arrivals say when requests come: a rate shaped by the hour of the day and the day of
// the week, bursts on top, and requests given one by one.
type Arrivals struct {
	// PerDay is the mean number of requests a day over the week.
	PerDay float64 `yaml:"per-day"`
	// Hourly are 24 relative weights by UTC hour; Weekdays 7 by day, Monday first.
	Hourly   []float64 `yaml:"hourly"`
	Weekdays []float64 `yaml:"weekdays"`
	Bursts   []Burst   `yaml:"bursts"`
	List     []Arrival `yaml:"list"`
}

// Burst is a number of requests spread evenly at random over a window.
type Burst struct {
	At       When     `yaml:"at"`
	For      Duration `yaml:"for"`
	Requests int      `yaml:"requests"`
	// SafetyShare and Languages replace the requesters' ones for the burst.
	SafetyShare *float64           `yaml:"safety-share"`
	Languages   map[string]float64 `yaml:"languages"`
}

// Arrival is one request given exactly (tests, or replaying a real week).
type Arrival struct {
	At       When   `yaml:"at"`
	Language string `yaml:"language"`
	// Safety is the safety question answered yes (harm, minor, illegal, offwiki), or "".
	Safety   string `yaml:"safety"`
	Platform string `yaml:"platform"` // matrix (default) or irc
	// Story: the first message tells the story (60+ characters), so the intake does not
	// ask for it.
	Story bool `yaml:"story"`
}

// Requesters say how people asking for help behave.
type Requesters struct {
	// SafetyShare is the share who answer yes to a safety question (the staff route).
	SafetyShare float64 `yaml:"safety-share"`
	IRCShare    float64 `yaml:"irc-share"`
	// Languages are relative weights of the languages people ask in.
	Languages map[string]float64 `yaml:"languages"`
	// StoryFirst is the share whose first message tells the story.
	StoryFirst float64 `yaml:"story-first"`
	// Answer is how long a person takes to answer each question of the intake.
	Answer Dist `yaml:"answer"`
	// Abandon is the share who stop answering during the intake.
	Abandon float64 `yaml:"abandon"`
	// FollowUpEvery is the mean time between messages a waiting person writes (0: none).
	FollowUpEvery Duration `yaml:"follow-up-every"`
	// Patience: a person still waiting for a human after this long withdraws (!cancel).
	// Unset: nobody gives up.
	Patience *Dist `yaml:"patience"`
	// Reply is how long a person takes to answer the helper's first words.
	Reply Dist `yaml:"reply"`
	// Rating is the share who rate the help when asked.
	Rating float64 `yaml:"rating"`
}

// Behaviour is how a helper (volunteer or staff member) acts. Unset fields take the
// group's defaults.
type Behaviour struct {
	// Accept is the share of answered offers accepted (the rest are declined); Ignore the
	// share of offers left unanswered until they expire.
	Accept *float64 `yaml:"accept"`
	Ignore *float64 `yaml:"ignore"`
	// Respond is how long a volunteer takes to answer an offer.
	Respond *Dist `yaml:"respond"`
	// Join is how long until they join the case room after the invitation.
	Join *Dist `yaml:"join"`
	// FirstReply is how long after joining they write their first words.
	FirstReply *Dist `yaml:"first-reply"`
	// Handle is how long after their first words they close the case.
	Handle *Dist `yaml:"handle"`
	// Escalate is the share of cases they escalate to staff after reading the summary.
	Escalate *float64 `yaml:"escalate"`
	// Limit is their !limit (0: the configured default).
	Limit int `yaml:"limit"`
}

// Volunteers are the roster: listed one by one, generated, or both.
type Volunteers struct {
	Behaviour `yaml:",inline"`
	Roster    []VolunteerSpec `yaml:"roster"`
	Generate  *Generate       `yaml:"generate"`
}

// VolunteerSpec is one volunteer with their shifts ("Mon 18:00-22:00 Europe/Berlin").
type VolunteerSpec struct {
	Name      string   `yaml:"name"`
	Languages []string `yaml:"languages"`
	Shifts    []string `yaml:"shifts"`
	Behaviour `yaml:",inline"`
}

// Generate makes Count volunteers who each take ShiftsPerWeek shifts of ShiftHours: the
// week is cut into 168/ShiftHours slots (UTC), busiest first by the arrival weights,
// and volunteers fill them in turn, each shift written in the volunteer's own zone.
// With 8-hour shifts and one a week, 21 volunteers cover the clock once: the seed's
// estimate.
type Generate struct {
	Count         int      `yaml:"count"`
	ShiftHours    int      `yaml:"shift-hours"`
	ShiftsPerWeek int      `yaml:"shifts-per-week"`
	Zones         []string `yaml:"zones"`
	// Languages everyone speaks; Extra: the share of volunteers who also speak each.
	Languages []string           `yaml:"languages"`
	Extra     map[string]float64 `yaml:"extra-languages"`
	Behaviour `yaml:",inline"`
}

// Staff are the on-call chain, in order.
type Staff struct {
	// Count makes staff-1 … staff-N when Members is empty, or more like the listed ones.
	Count   int           `yaml:"count"`
	Members []StaffMember `yaml:"members"`
	// Ack is how long a paged staff member takes to !ack; Miss the share of pages they
	// do not answer at all.
	Ack        Dist    `yaml:"ack"`
	Miss       float64 `yaml:"miss"`
	Join       Dist    `yaml:"join"`
	FirstReply Dist    `yaml:"first-reply"`
	Handle     Dist    `yaml:"handle"`
	// RotationPeriod rotates the primary (0: the first is always primary).
	RotationPeriod Duration `yaml:"rotation-period"`
}

// StaffMember is one person of the chain. Hours ("08:00-20:00 Europe/Berlin", every
// day) are when they answer pages; outside them a page goes unanswered. Empty: always.
type StaffMember struct {
	Name  string   `yaml:"name"`
	Hours string   `yaml:"hours"`
	Miss  *float64 `yaml:"miss"`
}

// Fault is something going wrong: the bot restarting (down For, default 30s) or the
// database away (For, default 1m).
type Fault struct {
	Kind string   `yaml:"kind"` // restart | database-away
	At   When     `yaml:"at"`
	For  Duration `yaml:"for"`
}

// Dist is a duration drawn from a log-normal distribution given by its median and 95th
// percentile; equal (or no p95) gives a constant.
type Dist struct {
	Median Duration `yaml:"median"`
	P95    Duration `yaml:"p95"`
}

// Duration is a time.Duration written as "90s", "15m" or "24h".
type Duration time.Duration

func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration like 90s, 15m or 24h", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// D returns the time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// When is an instant: RFC 3339, or a duration after the scenario's start ("50h").
type When struct {
	abs    time.Time
	offset time.Duration
	isAbs  bool
}

func (w *When) UnmarshalYAML(n *yaml.Node) error {
	if d, err := time.ParseDuration(n.Value); err == nil {
		*w = When{offset: d}
		return nil
	}
	t, err := time.Parse(time.RFC3339, n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %q is neither a time like 2026-03-02T09:00:00Z nor an offset like 50h", n.Line, n.Value)
	}
	*w = When{abs: t, isAbs: true}
	return nil
}

// After builds a When at an offset from the start.
func After(d time.Duration) When { return When{offset: d} }

// Time is the instant, given the scenario's start.
func (w When) Time(start time.Time) time.Time {
	if w.isAbs {
		return w.abs
	}
	return start.Add(w.offset)
}

// LoadScenario reads a scenario file strictly: an unknown key is an error naming it.
func LoadScenario(path string) (*Scenario, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseScenario(raw)
}

// ParseScenario decodes and checks a scenario.
func ParseScenario(raw []byte) (*Scenario, error) {
	var sc Scenario
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&sc); err != nil {
		return nil, fmt.Errorf("scenario: %w", err)
	}
	if err := sc.check(); err != nil {
		return nil, fmt.Errorf("scenario: %w", err)
	}
	return &sc, nil
}

var safetySteps = map[string]bot.Step{"harm": bot.StepHarm, "minor": bot.StepMinor, "illegal": bot.StepIllegal, "offwiki": bot.StepOffWiki}

// check fills what may be left out and refuses what cannot run.
func (sc *Scenario) check() error {
	if sc.Start.IsZero() {
		return fmt.Errorf("start is missing (e.g. 2026-03-02T00:00:00Z, a Monday)")
	}
	if sc.Length <= 0 {
		sc.Length = Duration(7 * 24 * time.Hour)
	}
	if sc.Drain < 0 {
		return fmt.Errorf("drain must not be negative")
	}
	if sc.Target <= 0 {
		sc.Target = Duration(time.Hour)
	}
	a := &sc.Arrivals
	if a.PerDay < 0 {
		return fmt.Errorf("arrivals.per-day must not be negative")
	}
	if len(a.Hourly) == 0 {
		a.Hourly = slices.Repeat([]float64{1}, 24)
	}
	if len(a.Weekdays) == 0 {
		a.Weekdays = slices.Repeat([]float64{1}, 7)
	}
	if len(a.Hourly) != 24 || len(a.Weekdays) != 7 {
		return fmt.Errorf("arrivals: hourly needs 24 weights and weekdays 7")
	}
	for _, w := range append(slices.Clone(a.Hourly), a.Weekdays...) {
		if w < 0 || math.IsNaN(w) {
			return fmt.Errorf("arrivals: weights must not be negative")
		}
	}
	if a.PerDay > 0 && (sum(a.Hourly) == 0 || sum(a.Weekdays) == 0) {
		return fmt.Errorf("arrivals: the weights are all zero")
	}
	for i, b := range a.Bursts {
		if b.Requests < 0 || b.For < 0 {
			return fmt.Errorf("arrivals.bursts[%d]: requests and for must not be negative", i)
		}
	}
	for i, x := range a.List {
		if _, ok := safetySteps[x.Safety]; x.Safety != "" && !ok {
			return fmt.Errorf("arrivals.list[%d].safety: %q is not harm, minor, illegal or offwiki", i, x.Safety)
		}
		if x.Platform != "" && x.Platform != "matrix" && x.Platform != "irc" {
			return fmt.Errorf("arrivals.list[%d].platform: %q is not matrix or irc", i, x.Platform)
		}
	}
	r := &sc.Requesters
	for _, p := range []struct {
		key string
		v   float64
	}{{"safety-share", r.SafetyShare}, {"irc-share", r.IRCShare}, {"story-first", r.StoryFirst}, {"abandon", r.Abandon}, {"rating", r.Rating},
		{"staff.miss", sc.Staff.Miss}} {
		if p.v < 0 || p.v > 1 {
			return fmt.Errorf("%s must be a share between 0 and 1", p.key)
		}
	}
	if len(r.Languages) == 0 {
		r.Languages = map[string]float64{"en": 1}
	}
	for code := range r.Languages {
		if c, ok := bot.ParseLanguage(code); !ok || c != code {
			return fmt.Errorf("requesters.languages: %q is not a language code", code)
		}
	}
	defDist(&r.Answer, 40*time.Second, 3*time.Minute)
	defDist(&r.Reply, 5*time.Minute, 30*time.Minute)
	v := &sc.Volunteers
	v.Behaviour = v.Behaviour.or(Behaviour{Accept: ptr(0.85), Ignore: ptr(0.1), Respond: &Dist{Duration(3 * time.Minute), Duration(12 * time.Minute)},
		Join: &Dist{Duration(2 * time.Minute), Duration(10 * time.Minute)}, FirstReply: &Dist{Duration(3 * time.Minute), Duration(15 * time.Minute)},
		Handle: &Dist{Duration(90 * time.Minute), Duration(8 * time.Hour)}, Escalate: ptr(0.03)})
	names := map[string]bool{}
	for i, spec := range v.Roster {
		if spec.Name == "" || strings.ContainsAny(spec.Name, " :@!") || names[spec.Name] {
			return fmt.Errorf("volunteers.roster[%d]: each needs a name of its own (no spaces, : @ or !)", i)
		}
		names[spec.Name] = true
		for _, s := range spec.Shifts {
			if _, err := parseShiftText(s); err != nil {
				return fmt.Errorf("volunteers.roster[%d] (%s): shift %q: %v", i, spec.Name, s, err)
			}
		}
	}
	if g := v.Generate; g != nil {
		if g.ShiftHours == 0 {
			g.ShiftHours = 8
		}
		if g.ShiftsPerWeek == 0 {
			g.ShiftsPerWeek = 1
		}
		if g.ShiftHours < 1 || 168%g.ShiftHours != 0 || g.ShiftHours >= 24 {
			// A shift is typed as one time range within a day and its night: a whole day
			// would start and end at the same time, which !shift add refuses.
			return fmt.Errorf("volunteers.generate.shift-hours must divide the week's 168 hours and be shorter than a day: 1, 2, 3, 4, 6, 7, 8, 12, 14 or 21")
		}
		if len(g.Zones) == 0 {
			g.Zones = []string{"UTC"}
		}
		for _, z := range g.Zones {
			if _, err := time.LoadLocation(z); err != nil || (z != "UTC" && !strings.Contains(z, "/")) {
				return fmt.Errorf("volunteers.generate.zones: %q is not an IANA time zone", z)
			}
		}
		if len(g.Languages) == 0 {
			g.Languages = []string{"en"}
		}
	}
	st := &sc.Staff
	if st.Count == 0 {
		st.Count = len(st.Members)
	}
	for i, m := range st.Members {
		if m.Name == "" || strings.ContainsAny(m.Name, " :@!") {
			return fmt.Errorf("staff.members[%d]: each needs a name (no spaces, : @ or !)", i)
		}
		if m.Hours != "" {
			if _, _, _, err := parseHours(m.Hours); err != nil {
				return fmt.Errorf("staff.members[%d].hours: %v", i, err)
			}
		}
	}
	defDist(&st.Ack, 4*time.Minute, 15*time.Minute)
	defDist(&st.Join, time.Minute, 5*time.Minute)
	defDist(&st.FirstReply, 3*time.Minute, 10*time.Minute)
	defDist(&st.Handle, 2*time.Hour, 12*time.Hour)
	for i := range sc.Faults {
		f := &sc.Faults[i]
		switch f.Kind {
		case "restart":
			if f.For == 0 {
				f.For = Duration(30 * time.Second)
			}
		case "database-away":
			if f.For == 0 {
				f.For = Duration(time.Minute)
			}
		default:
			return fmt.Errorf("faults[%d].kind: %q is not restart or database-away", i, f.Kind)
		}
		if f.For < 0 {
			return fmt.Errorf("faults[%d].for must not be negative", i)
		}
	}
	return nil
}

func defDist(d *Dist, median, p95 time.Duration) {
	if d.Median == 0 {
		d.Median, d.P95 = Duration(median), Duration(p95)
	}
	if d.P95 < d.Median {
		d.P95 = d.Median
	}
}

// or fills b's unset fields from def.
func (b Behaviour) or(def Behaviour) Behaviour {
	if b.Accept == nil {
		b.Accept = def.Accept
	}
	if b.Ignore == nil {
		b.Ignore = def.Ignore
	}
	if b.Respond == nil {
		b.Respond = def.Respond
	}
	if b.Join == nil {
		b.Join = def.Join
	}
	if b.FirstReply == nil {
		b.FirstReply = def.FirstReply
	}
	if b.Handle == nil {
		b.Handle = def.Handle
	}
	if b.Escalate == nil {
		b.Escalate = def.Escalate
	}
	if b.Limit == 0 {
		b.Limit = def.Limit
	}
	return b
}

func ptr[T any](v T) *T { return &v }

func sum(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s
}

// parseHours reads "08:00-20:00 Europe/Berlin": daily hours in a zone.
func parseHours(s string) (from, to int, loc *time.Location, err error) {
	f := strings.Fields(s)
	if len(f) != 2 {
		return 0, 0, nil, fmt.Errorf("%q is not like 08:00-20:00 Europe/Berlin", s)
	}
	sh, err := bot.ParseShift([]string{"mon", f[0], f[1]})
	if err != nil {
		return 0, 0, nil, err
	}
	loc, _ = time.LoadLocation(f[1])
	return sh.Start, sh.End, loc, nil
}

// inHours reports whether t is within daily hours from–to (minutes) in loc; to may be
// before from (over midnight).
func inHours(t time.Time, from, to int, loc *time.Location) bool {
	lt := t.In(loc)
	m := lt.Hour()*60 + lt.Minute()
	if to > from {
		return m >= from && m < to
	}
	return m >= from || m < to
}

// parseShiftText reads a shift as a volunteer types it after !shift add.
func parseShiftText(s string) (bot.Shift, error) { return bot.ParseShift(strings.Fields(s)) }
