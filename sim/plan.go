package sim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"time"

	"switchboard/bot"
)

// The plan is everything drawn at random before the week starts: who arrives when and
// how they will behave, and the roster. Drawing it up front from the seed keeps two
// runs of the same scenario identical, whatever the bot does.

const server = "sim.invalid"

// plannedRequester is a person who will ask for help.
type plannedRequester struct {
	N        int
	At       time.Time
	Platform bot.Platform
	Language string
	Safety   bot.Step // the safety question they answer yes, or ""
	Story    bool
	// AbandonAfter: they stop answering after this many intake answers (-1: never).
	AbandonAfter int
	Patience     time.Duration // 0: never gives up
	Burst        bool
}

// plannedVolunteer is one volunteer of the roster.
type plannedVolunteer struct {
	Name      string
	Languages []string
	Shifts    []string
	Behaviour
}

// plannedStaff is one person of the on-call chain.
type plannedStaff struct {
	Name     string
	From, To int
	Loc      *time.Location // nil: always answers
	Miss     float64
}

type plan struct {
	requesters []plannedRequester
	volunteers []plannedVolunteer
	staff      []plannedStaff
}

func newRand(seed uint64, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, stream*0x9E3779B97F4A7C15+1))
}

// draw samples a log-normal with the given median and p95, at least floor.
func (d Dist) draw(rng *rand.Rand, floor time.Duration) time.Duration {
	m, q := float64(d.Median), float64(d.P95)
	v := m
	if q > m && m > 0 {
		sigma := math.Log(q/m) / 1.6448536269514722
		v = m * math.Exp(sigma*rng.NormFloat64())
	}
	return max(time.Duration(v), floor)
}

func chance(rng *rand.Rand, p float64) bool { return rng.Float64() < p }

// pickWeighted picks a key by weight, in sorted key order so the draw is reproducible.
func pickWeighted(rng *rand.Rand, weights map[string]float64) string {
	keys := make([]string, 0, len(weights))
	total := 0.0
	for k, w := range weights {
		keys = append(keys, k)
		total += w
	}
	sort.Strings(keys)
	x := rng.Float64() * total
	for _, k := range keys {
		if x < weights[k] {
			return k
		}
		x -= weights[k]
	}
	return keys[len(keys)-1]
}

// weekday is Monday 0 … Sunday 6.
func weekday(t time.Time) int { return (int(t.Weekday()) + 6) % 7 }

// rate is the expected requests per hour at t.
func (a *Arrivals) rate(t time.Time) float64 {
	t = t.UTC()
	mh, mw := sum(a.Hourly)/24, sum(a.Weekdays)/7
	if mh == 0 || mw == 0 {
		return 0
	}
	return a.PerDay / 24 * a.Hourly[t.Hour()] / mh * a.Weekdays[weekday(t)] / mw
}

// makePlan draws the week.
func makePlan(sc *Scenario) (*plan, error) {
	p := &plan{}
	start, end := sc.Start, sc.Start.Add(sc.Length.D())
	arr := newRand(sc.Seed, 1)
	var times []struct {
		at    time.Time
		burst *Burst
		given *Arrival
	}
	// A non-homogeneous Poisson process by thinning: candidates at the highest rate,
	// each kept with the ratio of the rate at its time to the highest.
	a := &sc.Arrivals
	if a.PerDay > 0 {
		peak := a.PerDay / 24 * slices.Max(a.Hourly) / (sum(a.Hourly) / 24) * slices.Max(a.Weekdays) / (sum(a.Weekdays) / 7)
		for t := start; ; {
			t = t.Add(time.Duration(arr.ExpFloat64() / peak * float64(time.Hour)))
			if !t.Before(end) {
				break
			}
			if arr.Float64() < a.rate(t)/peak {
				times = append(times, struct {
					at    time.Time
					burst *Burst
					given *Arrival
				}{at: t})
			}
		}
	}
	for i := range a.Bursts {
		b := &a.Bursts[i]
		from := b.At.Time(start)
		for range b.Requests {
			times = append(times, struct {
				at    time.Time
				burst *Burst
				given *Arrival
			}{at: from.Add(time.Duration(arr.Float64() * float64(b.For.D()))), burst: b})
		}
	}
	for i := range a.List {
		times = append(times, struct {
			at    time.Time
			burst *Burst
			given *Arrival
		}{at: a.List[i].At.Time(start), given: &a.List[i]})
	}
	sort.SliceStable(times, func(i, j int) bool { return times[i].at.Before(times[j].at) })
	who := newRand(sc.Seed, 2)
	r := &sc.Requesters
	steps := []bot.Step{bot.StepHarm, bot.StepMinor, bot.StepIllegal, bot.StepOffWiki}
	for i, x := range times {
		// Whole seconds: the simulated clock counts milliseconds, and an arrival between
		// two would be answered a fraction before it came (a negative wait).
		pr := plannedRequester{N: i + 1, At: x.at.Truncate(time.Second), Platform: bot.Matrix, AbandonAfter: -1, Burst: x.burst != nil}
		// Every draw happens for every requester, used or not, so that one setting does
		// not shift the others' draws.
		langs, safety := r.Languages, r.SafetyShare
		if x.burst != nil {
			if x.burst.Languages != nil {
				langs = x.burst.Languages
			}
			if x.burst.SafetyShare != nil {
				safety = *x.burst.SafetyShare
			}
		}
		lang := pickWeighted(who, langs)
		isSafety, step := chance(who, safety), steps[who.IntN(4)]
		irc, story := chance(who, r.IRCShare), chance(who, r.StoryFirst)
		abandon, abandonAt := chance(who, r.Abandon), 1+who.IntN(8)
		var patience time.Duration
		if r.Patience != nil {
			patience = r.Patience.draw(who, time.Minute)
		}
		if g := x.given; g != nil {
			pr.Language, pr.Safety, pr.Story = g.Language, safetySteps[g.Safety], g.Story
			if pr.Language == "" {
				pr.Language = "en"
			}
			if g.Platform == "irc" {
				pr.Platform = bot.IRC
			}
		} else {
			pr.Language, pr.Story = lang, story
			if isSafety {
				pr.Safety = step
			}
			if irc {
				pr.Platform = bot.IRC
			}
			if abandon {
				pr.AbandonAfter = abandonAt
			}
			pr.Patience = patience
		}
		p.requesters = append(p.requesters, pr)
	}
	vols, err := makeRoster(sc)
	if err != nil {
		return nil, err
	}
	p.volunteers = vols
	p.staff = makeStaff(sc)
	return p, nil
}

// makeRoster lists the roster's volunteers, then the generated ones.
func makeRoster(sc *Scenario) ([]plannedVolunteer, error) {
	var out []plannedVolunteer
	v := &sc.Volunteers
	for _, spec := range v.Roster {
		langs := spec.Languages
		if len(langs) == 0 {
			langs = []string{"en"}
		}
		out = append(out, plannedVolunteer{Name: spec.Name, Languages: langs, Shifts: spec.Shifts, Behaviour: spec.Behaviour.or(v.Behaviour)})
	}
	g := v.Generate
	if g == nil || g.Count == 0 {
		return out, nil
	}
	slots := shiftSlots(sc, g.ShiftHours)
	rng := newRand(sc.Seed, 3)
	extra := make([]string, 0, len(g.Extra))
	for l := range g.Extra {
		extra = append(extra, l)
	}
	sort.Strings(extra)
	beh := g.Behaviour.or(v.Behaviour)
	for i := range g.Count {
		zone := g.Zones[i%len(g.Zones)]
		loc, err := time.LoadLocation(zone)
		if err != nil {
			return nil, err
		}
		pv := plannedVolunteer{Name: fmt.Sprintf("v%02d", i+1), Languages: slices.Clone(g.Languages), Behaviour: beh}
		for _, l := range extra {
			if chance(rng, g.Extra[l]) && !slices.Contains(pv.Languages, l) {
				pv.Languages = append(pv.Languages, l)
			}
		}
		for j := range g.ShiftsPerWeek {
			from := slots[(i*g.ShiftsPerWeek+j)%len(slots)]
			lt := from.In(loc)
			to := lt.Add(time.Duration(g.ShiftHours) * time.Hour)
			pv.Shifts = append(pv.Shifts, fmt.Sprintf("%s %s-%s %s", lt.Format("Mon"), lt.Format("15:04"), to.Format("15:04"), zone))
		}
		out = append(out, pv)
	}
	return out, nil
}

// shiftSlots cuts the week of the scenario's start (from Monday 00:00 UTC) into slots
// of hours, busiest first by the arrival weights: a coordinator covers those first.
func shiftSlots(sc *Scenario, hours int) []time.Time {
	s := sc.Start.UTC()
	monday := time.Date(s.Year(), s.Month(), s.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, -weekday(s))
	n := 168 / hours
	type slot struct {
		at     time.Time
		weight float64
	}
	slots := make([]slot, n)
	for k := range n {
		at := monday.Add(time.Duration(k*hours) * time.Hour)
		w := 0.0
		for h := range hours {
			t := at.Add(time.Duration(h) * time.Hour)
			w += sc.Arrivals.Hourly[t.Hour()] * sc.Arrivals.Weekdays[weekday(t)]
		}
		slots[k] = slot{at, w}
	}
	sort.SliceStable(slots, func(i, j int) bool { return slots[i].weight > slots[j].weight })
	out := make([]time.Time, n)
	for i, s := range slots {
		out[i] = s.at
	}
	return out
}

func makeStaff(sc *Scenario) []plannedStaff {
	st := &sc.Staff
	var out []plannedStaff
	for i := range st.Count {
		ps := plannedStaff{Name: fmt.Sprintf("staff%d", i+1), Miss: st.Miss}
		if len(st.Members) > 0 {
			m := st.Members[i%len(st.Members)]
			ps.Name = m.Name
			if i >= len(st.Members) {
				ps.Name = fmt.Sprintf("%s-%d", m.Name, i+1)
			}
			if m.Hours != "" {
				ps.From, ps.To, ps.Loc, _ = parseHours(m.Hours)
			}
			if m.Miss != nil {
				ps.Miss = *m.Miss
			}
		}
		out = append(out, ps)
	}
	return out
}
