package bot

import (
	"flag"
	"os"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files")

// A golden test: three volunteers in three zones across the European DST change of
// 2026-03-29, so the Berlin shift moves an hour earlier in UTC on the last days.
func TestCoverageGolden(t *testing.T) {
	now, shifts, langs := coverageScenario()
	checkGolden(t, "testdata/coverage.golden", "coverage", Coverage(now, shifts, langs, 7).Table())
	if Coverage(now, nil, nil, 7).Table() != "" {
		t.Error("no shifts should give no table")
	}
}

func coverageScenario() (time.Time, []Shift, [][]string) {
	now := time.Date(2026, 3, 26, 9, 40, 0, 0, time.UTC) // a Thursday
	shifts := []Shift{
		{VolunteerID: 1, Weekday: time.Thursday, Start: 18 * 60, End: 22 * 60, TZ: "Europe/Berlin"},
		{VolunteerID: 1, Weekday: time.Monday, Start: 18 * 60, End: 22 * 60, TZ: "Europe/Berlin"},
		{VolunteerID: 2, Weekday: time.Friday, Start: 22 * 60, End: 2 * 60, TZ: "America/New_York"},
		{VolunteerID: 3, Weekday: time.Saturday, Start: 9 * 60, End: 17 * 60, TZ: "Asia/Kolkata"},
		{VolunteerID: 3, Weekday: time.Sunday, Start: 9 * 60, End: 17 * 60, TZ: "Asia/Kolkata"},
	}
	langs := [][]string{{"de", "en"}, {"de", "en"}, {"en"}, {"en", "hi"}, {"en", "hi"}}
	return now, shifts, langs
}

// checkGolden compares got with a golden file, which -update rewrites.
func checkGolden(t *testing.T, golden, what, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("%s differs from %s (run with -update after checking):\n%s", what, golden, got)
	}
}

// A volunteer counts once for an hour two of their shifts cover, in each of their
// languages, however the shifts are ordered; two volunteers count twice.
func TestCoverageCountsAVolunteerOnce(t *testing.T) {
	now := time.Date(2026, 3, 23, 0, 0, 0, 0, time.UTC) // a Monday
	shifts := []Shift{
		{VolunteerID: 1, Weekday: time.Monday, Start: 10 * 60, End: 14 * 60, TZ: "UTC"},
		{VolunteerID: 2, Weekday: time.Monday, Start: 12 * 60, End: 13 * 60, TZ: "UTC"},
		{VolunteerID: 1, Weekday: time.Monday, Start: 12 * 60, End: 16 * 60, TZ: "UTC"},
	}
	langs := [][]string{{"de", "en"}, {"en"}, {"de", "en"}}
	g := Coverage(now, shifts, langs, 1)
	want := map[string]map[int]int{
		"de": {9: 0, 10: 1, 12: 1, 13: 1, 15: 1, 16: 0},
		"en": {9: 0, 10: 1, 12: 2, 13: 1, 15: 1, 16: 0},
	}
	for l, lang := range g.Languages {
		for h, n := range want[lang] {
			if got := g.Counts[l][h]; got != n {
				t.Errorf("%s at %02d:00 UTC: %d on shift, want %d", lang, h, got, n)
			}
		}
	}
}
