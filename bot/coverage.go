package bot

import (
	"cmp"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// coverageRuler labels the 24 hour columns of a coverage row.
const coverageRuler = "0     6     12    18    "

// Past marks an hour of a coverage grid that is already over.
const Past = -1

// CoverageGrid is how many volunteers are on shift per language in each UTC hour of
// the next days: what !coverage shows as a table and as a heat map.
type CoverageGrid struct {
	// Start is the UTC midnight the first day begins at.
	Start time.Time
	Days  int
	// Languages are sorted; Counts[l][d*24+h] is the number of volunteers speaking
	// Languages[l] on shift in hour h of day d, or Past.
	Languages []string
	Counts    [][]int
}

// Coverage computes the grid for the days from now's UTC day on. A volunteer counts
// for an hour if they are on shift at any quarter of it.
func Coverage(now time.Time, shifts []Shift, langs [][]string, days int) CoverageGrid {
	now = now.UTC()
	g := CoverageGrid{Start: time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC), Days: days}
	index := map[string]int{}
	for i := range shifts {
		for _, l := range langs[i] {
			if _, ok := index[l]; !ok {
				index[l] = 0
				g.Languages = append(g.Languages, l)
			}
		}
	}
	sort.Strings(g.Languages)
	for i, l := range g.Languages {
		index[l] = i
		g.Counts = append(g.Counts, make([]int, days*24))
	}
	first := now.Hour() // hours before this on the first day are past
	for l := range g.Counts {
		for h := 0; h < first && h < days*24; h++ {
			g.Counts[l][h] = Past
		}
	}
	// A volunteer counts once per language and hour, however many of their shifts
	// cover it: the hours of each volunteer's shifts are gathered, then counted.
	order := make([]int, len(shifts))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(shifts[a].VolunteerID, shifts[b].VolunteerID) })
	on := make([]bool, days*24)
	var hours []int
	for n, i := range order {
		for _, h := range shifts[i].hoursOn(g.Start, days) {
			if h >= first && !on[h] {
				on[h] = true
				hours = append(hours, h)
			}
		}
		if n+1 < len(order) && shifts[order[n+1]].VolunteerID == shifts[i].VolunteerID {
			continue
		}
		for _, h := range hours {
			on[h] = false
			for _, lang := range langs[i] {
				g.Counts[index[lang]][h]++
			}
		}
		hours = hours[:0]
	}
	return g
}

// Table renders the grid as text: one row per language and UTC day, one character per
// hour ("·" is a gap, "+" ten or more, blank for hours already past), then the gaps as
// ranges. It is "" when no language has anyone.
func (g CoverageGrid) Table() string {
	if len(g.Languages) == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "UTC        %s\n", coverageRuler)
	var gaps []string
	for l, lang := range g.Languages {
		for d := 0; d < g.Days; d++ {
			fmt.Fprintf(&b, "%-3s %s  ", lang, g.Start.AddDate(0, 0, d).Format("Mon 02"))
			for h := d * 24; h < d*24+24; h++ {
				if g.Counts[l][h] == Past {
					b.WriteByte(' ')
				} else {
					b.WriteString(cell(g.Counts[l][h]))
				}
			}
			b.WriteByte('\n')
		}
		gaps = append(gaps, gapRanges(lang, g.Start, g.Counts[l])...)
	}
	if len(gaps) > 0 {
		b.WriteString("\nGaps (UTC):\n")
		for _, gap := range gaps {
			b.WriteString("- " + gap + "\n")
		}
	}
	return b.String()
}

func cell(n int) string {
	switch {
	case n == 0:
		return "·"
	case n >= 10:
		return "+"
	}
	return fmt.Sprint(n)
}

// zoneSlack bounds how far a zone's offset moves within a few days (a daylight-saving
// change is one hour, rarely two), with room to spare.
const zoneSlack = 3 * time.Hour

// hoursOn lists the hours of the days from start (a UTC midnight) in which the shift is
// on at any quarter (Active at :00, :15, :30 or :45), in order. Asking Active at every
// quarter hour of the week for every shift made !coverage cost seconds with thousands
// of shifts; Active is asked here only near the shift's own occurrences (its weekday's
// local date, from its start to its end, with zoneSlack either side), which are the
// only places it can hold.
func (s Shift) hoursOn(start time.Time, days int) []int {
	loc, err := loadZone(s.TZ)
	if err != nil {
		return nil // Active is never true in a zone that does not load
	}
	end := start.Add(time.Duration(days) * 24 * time.Hour)
	y, m, d := start.In(loc).Date()
	var hours []int
	for day := -2; day <= days+2; day++ {
		date := time.Date(y, m, d+day, 12, 0, 0, 0, loc)
		if date.Weekday() != s.Weekday {
			continue
		}
		lo := time.Date(y, m, d+day, 0, s.Start, 0, 0, loc).Add(-zoneSlack)
		hi := time.Date(y, m, d+day, 0, s.End, 0, 0, loc)
		if s.End <= s.Start {
			hi = time.Date(y, m, d+day+1, 0, s.End, 0, 0, loc)
		}
		hi = hi.Add(zoneSlack)
		// The quarter hours of the grid from lo to hi.
		for q := max(0, int(lo.Sub(start)/(15*time.Minute))); q < days*96; q++ {
			p := start.Add(time.Duration(q) * 15 * time.Minute)
			if p.After(hi) || !p.Before(end) {
				break
			}
			if (len(hours) == 0 || hours[len(hours)-1] != q/4) && s.activeIn(loc, p) {
				hours = append(hours, q/4)
			}
		}
	}
	return hours
}

func gapRanges(lang string, midnight time.Time, counts []int) []string {
	var out []string
	for h := 0; h < len(counts); {
		if counts[h] != 0 {
			h++
			continue
		}
		e := h
		for e < len(counts) && counts[e] == 0 {
			e++
		}
		from, to := midnight.Add(time.Duration(h)*time.Hour), midnight.Add(time.Duration(e)*time.Hour)
		out = append(out, fmt.Sprintf("%s: %s – %s", lang, from.Format("Mon 02 15:04"), to.Format("Mon 02 15:04")))
		h = e
	}
	return out
}
