package bot

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// VolunteerStatus is where a volunteer is in vetting. Only trainees (with a mentor)
// and active volunteers are ever offered cases.
type VolunteerStatus string

const (
	VolApplicant VolunteerStatus = "applicant"
	VolTrainee   VolunteerStatus = "trainee"
	VolActive    VolunteerStatus = "active"
	VolSuspended VolunteerStatus = "suspended"
	VolRemoved   VolunteerStatus = "removed"
)

// Volunteer is a member of the help team, known by their Matrix ID.
type Volunteer struct {
	ID           int64
	UserID       string
	WikiUsername string
	Status       VolunteerStatus
	MentorID     int64
	Languages    []string
	CaseLimit    int
	OnUntil      time.Time
	OffUntil     time.Time
	DMRoom       string
	LastOfferAt  time.Time
}

// Shift is a weekly duty window in the volunteer's own time zone. End before Start
// means the shift runs past midnight into the next day.
type Shift struct {
	ID          int64
	VolunteerID int64
	Weekday     time.Weekday
	Start, End  int // minutes after local midnight; End may be 1440
	TZ          string
}

// Active reports whether t falls in the shift. Times are compared on the local wall
// clock of the shift's zone, so a shift keeps its local hours across DST changes; on the
// night clocks skip an hour, a shift inside the skipped hour simply does not happen.
func (s Shift) Active(t time.Time) bool {
	loc, err := loadZone(s.TZ)
	if err != nil {
		return false
	}
	return s.activeIn(loc, t)
}

// activeIn is Active with the shift's zone already loaded.
func (s Shift) activeIn(loc *time.Location, t time.Time) bool {
	lt := t.In(loc)
	minute := lt.Hour()*60 + lt.Minute()
	wd := lt.Weekday()
	if s.End > s.Start {
		return wd == s.Weekday && minute >= s.Start && minute < s.End
	}
	return (wd == s.Weekday && minute >= s.Start) || (wd == (s.Weekday+1)%7 && minute < s.End)
}

// String renders a shift the way it is typed.
func (s Shift) String() string {
	return fmt.Sprintf("%s %s-%s %s", s.Weekday.String()[:3], hhmm(s.Start), hhmm(s.End), s.TZ)
}

func hhmm(m int) string { return fmt.Sprintf("%02d:%02d", m/60, m%60) }

var weekdays = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

// ParseShift reads "Mon 18:00-22:00 Europe/Berlin". The zone must be an IANA name so
// that daylight-saving changes are handled; UTC is accepted too.
func ParseShift(args []string) (Shift, error) {
	if len(args) != 3 {
		return Shift{}, fmt.Errorf("want a day, a time range and a time zone")
	}
	day := strings.ToLower(args[0])
	if len(day) < 3 {
		return Shift{}, fmt.Errorf("%q is not a day of the week", args[0])
	}
	wd, ok := weekdays[day[:3]]
	if !ok || !strings.HasPrefix(strings.ToLower(wd.String()), day) {
		return Shift{}, fmt.Errorf("%q is not a day of the week", args[0])
	}
	from, to, ok := strings.Cut(args[1], "-")
	if !ok {
		return Shift{}, fmt.Errorf("%q is not a time range like 18:00-22:00", args[1])
	}
	start, err1 := parseClock(from, false)
	end, err2 := parseClock(to, true)
	if err1 != nil || err2 != nil || start == end {
		return Shift{}, fmt.Errorf("%q is not a time range like 18:00-22:00", args[1])
	}
	tz := args[2]
	if tz == "Local" || (!strings.Contains(tz, "/") && tz != "UTC") {
		return Shift{}, fmt.Errorf("%q is not an IANA time zone such as Europe/Berlin", tz)
	}
	if _, err := time.LoadLocation(tz); err != nil {
		return Shift{}, fmt.Errorf("%q is not an IANA time zone such as Europe/Berlin", tz)
	}
	return Shift{Weekday: wd, Start: start, End: end, TZ: tz}, nil
}

func parseClock(s string, end bool) (int, error) {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok {
		return 0, fmt.Errorf("no colon")
	}
	hour, err1 := strconv.Atoi(h)
	minute, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || len(m) != 2 || minute < 0 || minute > 59 || hour < 0 {
		return 0, fmt.Errorf("bad clock")
	}
	v := hour*60 + minute
	if v > 1439 && !(end && v == 1440) {
		return 0, fmt.Errorf("bad clock")
	}
	return v, nil
}

// OnDuty reports whether a volunteer is on duty at t: on by hand, or in a shift they
// did not switch off.
func OnDuty(v Volunteer, shifts []Shift, t time.Time) bool {
	if v.OnUntil.After(t) {
		return true
	}
	if v.OffUntil.After(t) {
		return false
	}
	for _, s := range shifts {
		if s.Active(t) {
			return true
		}
	}
	return false
}

// ShiftEnd is when the shift active at t ends (zero if none is active).
func ShiftEnd(shifts []Shift, t time.Time) time.Time {
	var end time.Time
	for _, s := range shifts {
		if !s.Active(t) {
			continue
		}
		// Walk forward minute by minute: clear, and at most a day of steps.
		e := t.Truncate(time.Minute)
		for s.Active(e) {
			e = e.Add(time.Minute)
		}
		if e.After(end) {
			end = e
		}
	}
	return end
}
