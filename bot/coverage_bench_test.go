package bot

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// BenchmarkCoverage is !coverage's own work for the scale benchmark's desk (4,800
// shifts of 1,600 volunteers in seven zones): the grid, the table and the heat map.
func BenchmarkCoverage(b *testing.B) {
	zones := []string{"Asia/Kolkata", "America/New_York", "Europe/Berlin", "Europe/Madrid", "Australia/Sydney", "America/Sao_Paulo", "UTC"}
	rng := rand.New(rand.NewPCG(1, 2))
	var shifts []Shift
	var langs [][]string
	for v := range 1600 {
		for range 3 {
			start := rng.IntN(96) * 15
			shifts = append(shifts, Shift{VolunteerID: int64(v), Weekday: time.Weekday(rng.IntN(7)), Start: start,
				End: (start + 240) % 1440, TZ: zones[v%len(zones)]})
			langs = append(langs, []string{[]string{"en", "de", "es", "fr"}[v%4]})
		}
	}
	now := time.Date(2026, 12, 1, 21, 0, 0, 0, time.UTC)
	for b.Loop() {
		g := Coverage(now, shifts, langs, 7)
		if g.Table() == "" {
			b.Fatal("empty")
		}
		if _, _, _, err := HeatMap(g); err != nil {
			b.Fatal(err)
		}
	}
	_ = fmt.Sprint()
}
