package bot

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// TestHoursOnMatchesEveryQuarter checks the shortcut !coverage takes against the
// definition it replaced: Active asked at every quarter hour of the days shown. Random
// shifts (overnight ones, ones ending at midnight, ones in the hour clocks skip or
// repeat) in zones with daylight saving, half-hour and 45-minute offsets, over weeks
// that include the changes of 2026 in both hemispheres.
func TestHoursOnMatchesEveryQuarter(t *testing.T) {
	zones := []string{"Europe/Berlin", "America/New_York", "Asia/Kolkata", "UTC", "Australia/Sydney",
		"Australia/Lord_Howe", "Asia/Kathmandu", "America/St_Johns", "Pacific/Chatham", "Pacific/Kiritimati",
		"Pacific/Pago_Pago", "America/Sao_Paulo", "Europe/London", "Nowhere/Invalid"}
	starts := []time.Time{
		time.Date(2026, 3, 26, 0, 0, 0, 0, time.UTC),  // Europe springs forward on the 29th
		time.Date(2026, 3, 6, 0, 0, 0, 0, time.UTC),   // North America on the 8th
		time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC),   // Sydney falls back on the 5th
		time.Date(2026, 10, 22, 0, 0, 0, 0, time.UTC), // Europe falls back on the 25th, Sydney springs on the 4th
		time.Date(2026, 10, 29, 0, 0, 0, 0, time.UTC), // North America falls back on 1 November
		time.Date(2026, 7, 15, 0, 0, 0, 0, time.UTC),
	}
	rng := rand.New(rand.NewPCG(15, 2026))
	checked, on := 0, 0
	for range 800 {
		start := rng.IntN(96) * 15
		if rng.IntN(4) == 0 {
			start = 60*(1+rng.IntN(3)) + 15*rng.IntN(4) // around the hours clocks change at
		}
		end := start + 15*(1+rng.IntN(60))
		if end > 1440 {
			end -= 1440 // past midnight
		}
		if rng.IntN(10) == 0 {
			end = 1440
		}
		s := Shift{Weekday: time.Weekday(rng.IntN(7)), Start: start, End: end, TZ: zones[rng.IntN(len(zones))]}
		from := starts[rng.IntN(len(starts))]
		days := 1 + rng.IntN(8)
		var want []int
		for h := 0; h < days*24; h++ {
			hour := from.Add(time.Duration(h) * time.Hour)
			for q := range 4 {
				if s.Active(hour.Add(time.Duration(q*15) * time.Minute)) {
					want = append(want, h)
					break
				}
			}
		}
		got := s.hoursOn(from, days)
		if !slices.Equal(got, want) {
			t.Fatalf("%s from %s for %d days: hours %v, every quarter says %v", s, from.Format(time.DateOnly), days, got, want)
		}
		checked++
		on += len(want)
	}
	if on == 0 {
		t.Fatalf("none of %d shifts was ever on: the test checks nothing", checked)
	}
}
