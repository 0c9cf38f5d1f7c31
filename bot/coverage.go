package bot

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// coverageRuler labels the 24 hour columns of a coverage row.
const coverageRuler = "0     6     12    18    "

// Coverage renders how many volunteers are on shift per language in each UTC hour of
// the next days: one row per language and UTC day, one character per hour ("·" is a
// gap, "+" ten or more, blank for hours already past). A volunteer counts for an hour
// if they are on shift at any quarter of it. Gaps are then listed as ranges.
func Coverage(now time.Time, shifts []Shift, langs [][]string, days int) string {
	now = now.UTC()
	midnight := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	first := now.Hour() // hours before this on the first day are past
	counts := map[string][]int{}
	var languages []string
	for i := range shifts {
		for _, l := range langs[i] {
			if _, ok := counts[l]; !ok {
				counts[l] = make([]int, days*24)
				languages = append(languages, l)
			}
		}
	}
	if len(languages) == 0 {
		return ""
	}
	sort.Strings(languages)
	for h := first; h < days*24; h++ {
		hour := midnight.Add(time.Duration(h) * time.Hour)
		seen := map[string]map[int64]bool{}
		for i, s := range shifts {
			if !activeInHour(s, hour) {
				continue
			}
			for _, l := range langs[i] {
				if seen[l] == nil {
					seen[l] = map[int64]bool{}
				}
				if !seen[l][s.VolunteerID] {
					seen[l][s.VolunteerID] = true
					counts[l][h]++
				}
			}
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "UTC        %s\n", coverageRuler)
	var gaps []string
	for _, l := range languages {
		for d := 0; d < days; d++ {
			fmt.Fprintf(&b, "%-3s %s  ", l, midnight.AddDate(0, 0, d).Format("Mon 02"))
			for h := d * 24; h < d*24+24; h++ {
				if h < first {
					b.WriteByte(' ')
				} else {
					b.WriteString(cell(counts[l][h]))
				}
			}
			b.WriteByte('\n')
		}
		gaps = append(gaps, gapRanges(l, midnight, first, counts[l])...)
	}
	if len(gaps) > 0 {
		b.WriteString("\nGaps (UTC):\n")
		for _, g := range gaps {
			b.WriteString("- " + g + "\n")
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

func gapRanges(lang string, midnight time.Time, first int, counts []int) []string {
	var out []string
	for h := first; h < len(counts); {
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
