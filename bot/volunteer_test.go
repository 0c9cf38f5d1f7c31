package bot

import (
	"testing"
	"time"
)

func mustShift(t *testing.T, s ...string) Shift {
	t.Helper()
	sh, err := ParseShift(s)
	if err != nil {
		t.Fatal(err)
	}
	return sh
}

func at(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestParseShift(t *testing.T) {
	s := mustShift(t, "Monday", "18:00-22:00", "Europe/Berlin")
	if s.Weekday != time.Monday || s.Start != 18*60 || s.End != 22*60 || s.String() != "Mon 18:00-22:00 Europe/Berlin" {
		t.Errorf("got %+v %s", s, s)
	}
	if s := mustShift(t, "sat", "22:00-24:00", "UTC"); s.End != 1440 {
		t.Errorf("24:00 end: %+v", s)
	}
	for _, bad := range [][]string{
		{"Mo", "18:00-22:00", "UTC"}, {"Funday", "18:00-22:00", "UTC"}, {"Mon", "18-22", "UTC"},
		{"Mon", "18:00-18:00", "UTC"}, {"Mon", "25:00-26:00", "UTC"}, {"Mon", "18:00-22:00", "CET+1"},
		{"Mon", "18:00-22:00", "Mars/Olympus"}, {"Mon", "18:00-22:00", "Local"}, {"Mon", "18:00-22:00"},
		{"Mon", "24:00-01:00", "UTC"}, {"Mon", "9:5-10:00", "UTC"},
	} {
		if _, err := ParseShift(bad); err == nil {
			t.Errorf("ParseShift(%q) accepted", bad)
		}
	}
}

func TestShiftAcrossDSTAndZones(t *testing.T) {
	berlin := mustShift(t, "Sun", "18:00-22:00", "Europe/Berlin")
	cases := []struct {
		when string
		want bool
	}{
		// Winter: Berlin is UTC+1, so 18:00 local is 17:00 UTC.
		{"2026-01-04T16:59:00Z", false},
		{"2026-01-04T17:00:00Z", true},
		{"2026-01-04T20:59:00Z", true},
		{"2026-01-04T21:00:00Z", false},
		// The Sunday clocks spring forward (2026-03-29): UTC+2 from 01:00 UTC.
		{"2026-03-29T15:59:00Z", false},
		{"2026-03-29T16:00:00Z", true},
		{"2026-03-29T19:59:00Z", true},
		{"2026-03-29T20:00:00Z", false},
		// The Sunday clocks fall back (2026-10-25): UTC+1 again.
		{"2026-10-25T16:30:00Z", false},
		{"2026-10-25T17:00:00Z", true},
	}
	for _, c := range cases {
		if got := berlin.Active(at(t, c.when)); got != c.want {
			t.Errorf("Berlin shift at %s = %v, want %v", c.when, got, c.want)
		}
	}
	// New York changes on other dates (2026-03-08): in the weeks between, the two zones
	// are 5 hours apart, not 6; a shift follows its own zone's clock.
	ny := mustShift(t, "Sun", "09:00-10:00", "America/New_York")
	if !ny.Active(at(t, "2026-03-15T13:30:00Z")) || ny.Active(at(t, "2026-03-15T14:30:00Z")) {
		t.Error("New York shift after its DST change")
	}
	if !ny.Active(at(t, "2026-03-01T14:30:00Z")) {
		t.Error("New York shift before its DST change")
	}
	// A shift in the skipped hour does not happen that night.
	skipped := mustShift(t, "Sun", "02:00-03:00", "Europe/Berlin")
	for m := 0; m < 180; m++ {
		if skipped.Active(at(t, "2026-03-29T00:00:00Z").Add(time.Duration(m) * time.Minute)) {
			t.Fatalf("the skipped hour happened at +%dm", m)
		}
	}
	// Overnight shift, Asia/Kolkata (UTC+5:30, no DST).
	night := mustShift(t, "Fri", "22:00-02:00", "Asia/Kolkata")
	if !night.Active(at(t, "2026-05-01T16:45:00Z")) || !night.Active(at(t, "2026-05-01T20:00:00Z")) ||
		night.Active(at(t, "2026-05-01T20:31:00Z")) || night.Active(at(t, "2026-05-01T16:29:00Z")) {
		t.Error("overnight shift in Kolkata")
	}
	// Saturday night into Sunday wraps the week.
	wrap := mustShift(t, "Sat", "23:00-01:00", "UTC")
	if !wrap.Active(at(t, "2026-05-03T00:30:00Z")) {
		t.Error("Saturday-night shift did not run into Sunday")
	}
}

func TestOnDutyAndShiftEnd(t *testing.T) {
	now := at(t, "2026-01-05T18:30:00Z") // a Monday
	shift := mustShift(t, "Mon", "18:00-20:00", "UTC")
	v := Volunteer{}
	if !OnDuty(v, []Shift{shift}, now) {
		t.Error("in a shift means on duty")
	}
	if end := ShiftEnd([]Shift{shift}, now); !end.Equal(at(t, "2026-01-05T20:00:00Z")) {
		t.Errorf("shift end %s", end)
	}
	v.OffUntil = at(t, "2026-01-05T20:00:00Z")
	if OnDuty(v, []Shift{shift}, now) {
		t.Error("!off during a shift must hold until its end")
	}
	if !OnDuty(v, []Shift{shift}, at(t, "2026-01-12T18:30:00Z")) {
		t.Error("the next week's shift counts again")
	}
	v.OnUntil = now.Add(time.Hour)
	if !OnDuty(v, nil, now) || OnDuty(v, nil, now.Add(2*time.Hour)) {
		t.Error("!on for a while")
	}
}
