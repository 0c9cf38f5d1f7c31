package bot

import (
	"fmt"
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
	for h := 0; h < days*24; h++ {
		if h < first {
			for l := range g.Counts {
				g.Counts[l][h] = Past
			}
			continue
		}
		hour := g.Start.Add(time.Duration(h) * time.Hour)
		seen := map[int]map[int64]bool{}
		for i, s := range shifts {
			if !activeInHour(s, hour) {
				continue
			}
			for _, lang := range langs[i] {
				l := index[lang]
				if seen[l] == nil {
					seen[l] = map[int64]bool{}
				}
				if !seen[l][s.VolunteerID] {
					seen[l][s.VolunteerID] = true
					g.Counts[l][h]++
				}
			}
		}
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

func activeInHour(s Shift, hour time.Time) bool {
	for q := 0; q < 4; q++ {
		if s.Active(hour.Add(time.Duration(q*15) * time.Minute)) {
			return true
		}
	}
	return false
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
