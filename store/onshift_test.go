package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"switchboard/bot"
	"switchboard/internal/testenv"
)

// Who is on shift is worked out by PostgreSQL once a minute for routing (its zone
// database, one local time per zone); the Go rule (bot.Shift.Active) is the one
// !coverage, !shift and the simulator use. The two must agree at every minute,
// across daylight-saving changes, half- and quarter-hour zones and shifts past
// midnight: here on 300 random shifts at times around the 2026 changes.
func TestOnShiftMatchesTheZoneRules(t *testing.T) {
	ctx := context.Background()
	st := openStore(t, testenv.NewDB(t))
	zones := []string{"Europe/Berlin", "America/New_York", "Asia/Kolkata", "Asia/Kathmandu", "Australia/Sydney",
		"America/Sao_Paulo", "UTC", "Pacific/Chatham", "Europe/London"}
	rng := rand.New(rand.NewPCG(15, 2))
	shifts := map[int64][]bot.Shift{}
	for i := range 100 {
		var id int64
		if err := st.DB.GetContext(ctx, &id, `INSERT INTO volunteers (user_id, status, created_at, updated_at)
			VALUES ($1, 'active', 0, 0) RETURNING id`, fmt.Sprintf("@v%d:localhost", i)); err != nil {
			t.Fatal(err)
		}
		for range 3 {
			s := bot.Shift{VolunteerID: id, Weekday: time.Weekday(rng.IntN(7)), Start: rng.IntN(1440), TZ: zones[rng.IntN(len(zones))]}
			s.End = rng.IntN(1441)
			if rng.IntN(3) == 0 { // a shift past midnight, or round the clock
				s.End = rng.IntN(s.Start + 1)
			}
			if _, err := st.DB.ExecContext(ctx, `INSERT INTO shifts (volunteer_id, weekday, start_min, end_min, tz)
				VALUES ($1, $2, $3, $4, $5)`, id, int(s.Weekday), s.Start, s.End, s.TZ); err != nil {
				t.Fatal(err)
			}
			shifts[id] = append(shifts[id], s)
		}
	}
	var times []time.Time
	for _, change := range []time.Time{
		time.Date(2026, 3, 8, 7, 0, 0, 0, time.UTC),   // New York springs forward
		time.Date(2026, 3, 29, 1, 0, 0, 0, time.UTC),  // Berlin and London spring forward
		time.Date(2026, 4, 5, 16, 0, 0, 0, time.UTC),  // Sydney falls back
		time.Date(2026, 4, 4, 14, 0, 0, 0, time.UTC),  // Chatham falls back
		time.Date(2026, 10, 25, 1, 0, 0, 0, time.UTC), // Berlin and London fall back
	} {
		for range 12 {
			times = append(times, change.Add(time.Duration(rng.IntN(48*60)-24*60)*time.Minute+time.Duration(rng.IntN(60))*time.Second))
		}
	}
	checked := 0
	for _, at := range times {
		got, err := st.OnShift(ctx, at)
		if err != nil {
			t.Fatal(err)
		}
		var want []int64
		for id, ss := range shifts {
			if bot.OnDuty(bot.Volunteer{}, ss, at.Truncate(time.Minute)) {
				want = append(want, id)
			}
		}
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("at %s PostgreSQL has on shift %v, the Go rule %v", at.Format(time.RFC3339), got, want)
		}
		checked += len(want)
	}
	if checked == 0 {
		t.Fatal("nobody was on shift at any of the times: the comparison proved nothing")
	}
}

// The list of who is on shift is kept for the minute; a shift added or removed in that
// minute, by this process or any other writer, counts for the next decision.
func TestShiftChangeCountsWithinTheMinute(t *testing.T) {
	d := newDesk(t, testenv.NewDB(t)) // Sunday 12:00 UTC
	ctx := context.Background()
	d.volunteer("@shift:localhost", "en")
	pick := func() string {
		t.Helper()
		var who string
		if err := d.st.InTx(ctx, func(tx bot.Tx) error {
			v, err := tx.PickVolunteer(ctx, bot.RouteQuery{Now: time.UnixMilli(d.clock.Load()), Requester: alice, Language: "en"})
			if v != nil {
				who = v.UserID
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return who
	}
	if who := pick(); who != "" {
		t.Fatalf("with no shift, %q was picked", who)
	}
	// Another writer (an operator's psql, another replica) adds a shift now.
	if _, err := d.st.DB.ExecContext(ctx, `INSERT INTO shifts (volunteer_id, weekday, start_min, end_min, tz)
		SELECT id, 0, 11 * 60, 13 * 60, 'UTC' FROM volunteers WHERE user_id = '@shift:localhost'`); err != nil {
		t.Fatal(err)
	}
	if who := pick(); who != "@shift:localhost" {
		t.Fatalf("after a shift covering now was added, %q was picked; want @shift:localhost", who)
	}
	if _, err := d.st.DB.ExecContext(ctx, `DELETE FROM shifts`); err != nil {
		t.Fatal(err)
	}
	if who := pick(); who != "" {
		t.Fatalf("after the shift was removed, %q was still picked", who)
	}
	// And through the bot, in the same minute.
	expect(t, d.send("@shift:localhost", "!dm-shift:localhost", "!shift add Sun 11:30-12:30 UTC"), "Shift added")
	if who := pick(); who != "@shift:localhost" {
		t.Fatalf("after !shift add, %q was picked; want @shift:localhost", who)
	}
}
