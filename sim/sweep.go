package sim

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// SweepPoint is one run of a sweep.
type SweepPoint struct {
	Volunteers      int      `json:"volunteers"`
	Staff           int      `json:"staff"`
	ToHuman         Summary  `json:"to_a_human"`
	FirstHumanReply Summary  `json:"first_human_reply"`
	Ack             Summary  `json:"time_to_ack"`
	StillWaiting    int      `json:"still_waiting_at_end"`
	GaveUp          int      `json:"gave_up_waiting"`
	NeverAcked      int      `json:"never_acked"`
	WaitedForFree   Duration `json:"waited_while_a_volunteer_was_free"`
	Breaches        int      `json:"breaches"`
	Meets           bool     `json:"meets_target"`
	// Roster and Coverage (the bot's own !coverage at the start) say which shifts.
	Roster   []RosterLine `json:"roster"`
	Coverage string       `json:"coverage_at_start"`
}

// Sweep answers "how many keep the p95 wait for a human under the target".
type Sweep struct {
	Scenario string       `json:"scenario"`
	Seed     uint64       `json:"seed"`
	Target   Duration     `json:"target_p95_to_human"`
	Points   []SweepPoint `json:"points"`
	Answer   string       `json:"answer"`
	Real     Duration     `json:"real_time"`
	answer   *SweepPoint
}

// ParseCounts reads "21", "14,21,28" or "14:35:7" (from, to, step).
func ParseCounts(s string) ([]int, error) {
	if s == "" {
		return nil, nil
	}
	if a, b, ok := strings.Cut(s, ":"); ok {
		to, stepS, _ := strings.Cut(b, ":")
		if stepS == "" {
			stepS = "1"
		}
		lo, e1 := strconv.Atoi(a)
		hi, e2 := strconv.Atoi(to)
		step, e3 := strconv.Atoi(stepS)
		if e1 != nil || e2 != nil || e3 != nil || lo < 1 || hi < lo || step < 1 || (hi-lo)/step > 200 {
			return nil, fmt.Errorf("%q is not a range like 14:35:7 (from, to, step)", s)
		}
		var out []int
		for n := lo; n <= hi; n += step {
			out = append(out, n)
		}
		return out, nil
	}
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q is not a list of counts like 14,21,28", s)
		}
		out = append(out, n)
	}
	return out, nil
}

// RunSweep runs the scenario for each count of volunteers and of staff (the product of
// the two lists; an empty list keeps the scenario's own).
func RunSweep(ctx context.Context, sc *Scenario, opt Options, volunteers, staff []int) (*Sweep, error) {
	started := time.Now()
	if len(volunteers) == 0 {
		volunteers = []int{0}
	}
	if len(staff) == 0 {
		staff = []int{0}
	}
	sw := &Sweep{Scenario: sc.Name, Seed: sc.Seed, Target: sc.Target}
	for _, nv := range volunteers {
		for _, ns := range staff {
			o := opt
			o.Volunteers, o.Staff = nv, ns
			rep, err := Run(ctx, sc, o)
			if err != nil {
				return nil, fmt.Errorf("%d volunteers, %d staff: %w", nv, ns, err)
			}
			pt := SweepPoint{Volunteers: rep.Volunteers, Staff: rep.Staff, ToHuman: rep.ToHuman, FirstHumanReply: rep.FirstHumanReply,
				Ack: rep.Ack, StillWaiting: rep.StillWaiting, GaveUp: rep.GaveUp, NeverAcked: rep.NeverAcked,
				WaitedForFree: rep.WaitedForFree, Breaches: len(rep.Breaches), Roster: rep.Roster, Coverage: rep.Coverage}
			pt.Meets = rep.ToHuman.Present && !rep.ToHuman.P95Min && rep.ToHuman.P95 <= sc.Target && rep.StillWaiting == 0
			sw.Points = append(sw.Points, pt)
			if opt.Progress != nil {
				fmt.Fprintf(opt.Progress, "sim: %d volunteers, %d staff: p95 to a human %s\n", pt.Volunteers, pt.Staff, fd(pt.ToHuman.P95))
			}
		}
	}
	sw.Answer = "no count tried keeps the p95 wait for a human under " + fd(sc.Target)
	for i, pt := range sw.Points {
		if pt.Meets {
			sw.answer = &sw.Points[i]
			sw.Answer = fmt.Sprintf("%d volunteers and %d staff are the fewest tried that keep the p95 wait for a human under %s", pt.Volunteers, pt.Staff, fd(sc.Target))
			break
		}
	}
	sw.Real = Duration(time.Since(started))
	return sw, nil
}

// WriteText writes the sweep's table.
func (sw *Sweep) WriteText(w io.Writer) {
	fmt.Fprintf(w, "Sweep of %s (seed %d): target p95 wait for a human under %s\n\n", sw.Scenario, sw.Seed, fd(sw.Target))
	fmt.Fprintf(w, "%5s %5s  %4s %9s %9s %9s  %9s %9s  %7s %6s %6s %9s %8s  %s\n", "vols", "staff", "n", "human p50", "p95", "max",
		"reply p95", "ack p95", "waiting", "gaveup", "unack", "idle-wait", "breaches", "meets")
	for _, pt := range sw.Points {
		meets := "no"
		if pt.Meets {
			meets = "yes"
		}
		fmt.Fprintf(w, "%5d %5d  %s  %9s %9s  %7d %6d %6d %9s %8d  %s\n", pt.Volunteers, pt.Staff, pt.ToHuman.cells(),
			cell(pt.FirstHumanReply), cell(pt.Ack),
			pt.StillWaiting, pt.GaveUp, pt.NeverAcked, fd(pt.WaitedForFree), pt.Breaches, meets)
	}
	fmt.Fprintf(w, "\n%s.\n", sw.Answer)
	if a := sw.answer; a != nil && a.Coverage != "" {
		fmt.Fprintf(w, "Their shifts, as the bot's !coverage showed them at the start:\n%s\n", a.Coverage)
	}
	fmt.Fprintf(w, "(%s of real time.)\n", sw.Real.D().Round(time.Second))
}

// cell is a p95 for the table: "-" when nothing was measured (no page in the week).
func cell(s Summary) string {
	switch {
	case !s.Present:
		return "-"
	case s.P95Min:
		return "≥" + fd(s.P95)
	}
	return fd(s.P95)
}
