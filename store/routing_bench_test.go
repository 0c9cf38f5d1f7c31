package store_test

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/lib/pq"

	"switchboard/bot"
)

// BenchmarkRouting measures one routing decision (bot.Tx.PickVolunteer, one SQL round
// trip) with 500 volunteers (shifts in several zones, languages, conflicts, loads) and
// 1,000 queued cases. It reports p50 and p99 per decision.
//
//	go test -tags goolm -run XXX -bench Routing -benchtime 2000x ./store/
func BenchmarkRouting(b *testing.B) {
	d := newDeskB(b)
	ctx := context.Background()
	now := time.Date(2026, 3, 26, 18, 30, 0, 0, time.UTC)
	seedRouting(b, d, now)
	var cases []struct {
		ID       int64          `db:"id"`
		Language string         `db:"language"`
		Parties  pq.StringArray `db:"parties"`
	}
	if err := d.st.DB.Select(&cases, `SELECT id, language, parties FROM cases WHERE state = 'queued'`); err != nil {
		b.Fatal(err)
	}
	lat := make([]time.Duration, 0, b.N)
	found := 0
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		c := cases[i%len(cases)]
		start := time.Now()
		err := d.st.InTx(ctx, func(tx bot.Tx) error {
			v, err := tx.PickVolunteer(ctx, bot.RouteQuery{CaseID: c.ID, Requester: "@nobody:localhost",
				Language: c.Language, Parties: c.Parties, Now: now})
			if v != nil {
				found++
			}
			return err
		})
		lat = append(lat, time.Since(start))
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	if found == 0 {
		b.Fatal("routing never found anyone: the fixture is wrong")
	}
}

// seedRouting writes the fixture with plain SQL (fast), in the shapes the bot writes.
func seedRouting(b *testing.B, d *desk, now time.Time) {
	b.Helper()
	zones := []string{"Europe/Berlin", "America/New_York", "Asia/Kolkata", "UTC", "Australia/Sydney"}
	langs := [][]string{{"en"}, {"de", "en"}, {"fr"}, {"es", "en"}, {"hi", "en"}}
	tx := d.st.DB.MustBegin()
	for i := range 500 {
		var id int64
		onUntil := int64(0)
		if i%7 == 0 {
			onUntil = now.Add(time.Hour).UnixMilli()
		}
		if err := tx.QueryRow(`INSERT INTO volunteers (user_id, wiki_username, status, languages, case_limit, on_until,
			dm_room, last_offer_at, created_at, updated_at, wiki_key) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, 0, $9) RETURNING id`,
			fmt.Sprintf("@v%d:localhost", i), fmt.Sprintf("V%d", i), []string{"active", "active", "trainee", "suspended"}[i%4],
			pq.StringArray(langs[i%len(langs)]), 1+i%3, onUntil, fmt.Sprintf("!dm%d:localhost", i), int64(i),
			d.st.NameHash(fmt.Sprintf("V%d", i))).Scan(&id); err != nil {
			b.Fatal(err)
		}
		for s := range 3 {
			tx.MustExec(`INSERT INTO shifts (volunteer_id, weekday, start_min, end_min, tz) VALUES ($1, $2, $3, $4, $5)`,
				id, (i+s)%7, (i*37+s*300)%1200, (i*37+s*300)%1200+180, zones[(i+s)%len(zones)])
		}
		// Names as the bot stores them: the conflict sealed (a stand-in here, never read), compared by hash.
		tx.MustExec(`INSERT INTO conflicts (volunteer_id, username, name_key) VALUES ($1, $2, $3)`, id,
			fmt.Sprintf("sealed-%d", i), d.st.NameHash(fmt.Sprintf("Troll%d", i%50)))
	}
	for i := range 1000 {
		var person int64
		if err := tx.QueryRow(`INSERT INTO people (platform, external_id, created_at) VALUES ('matrix', $1, 0) RETURNING id`,
			fmt.Sprintf("@r%d:localhost", i)).Scan(&person); err != nil {
			b.Fatal(err)
		}
		var intake int64
		if err := tx.QueryRow(`INSERT INTO intakes (person_id, conversation, status, step, created_at, updated_at)
			VALUES ($1, 'x', 'done', 'confirm', 0, 0) RETURNING id`, person).Scan(&intake); err != nil {
			b.Fatal(err)
		}
		state, vol := "queued", any(nil)
		if i%4 == 0 { // a quarter are already with someone: they count as load
			state, vol = "active", fmt.Sprintf("@v%d:localhost", (i*13)%500)
		}
		// The parties in clear: the benchmark reads them back for routing, as the bot has
		// them opened (routing compares only their hashes).
		tx.MustExec(`INSERT INTO cases (ref, person_id, intake_id, route, state, parties, language, conversation,
			created_at, updated_at, queued_at, volunteer_id) VALUES ($1, $2, $3, 'volunteer', $4, $5, $6, 'x', 0, 0, $7,
			(SELECT id FROM volunteers WHERE user_id = $8))`,
			fmt.Sprintf("SB-B%04d", i), person, intake, state, pq.StringArray([]string{fmt.Sprintf("Troll%d", i%50), "V3"}),
			[]string{"en", "de", "fr", "es", "hi"}[i%5], int64(i), vol)
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	if _, err := d.st.DB.Exec(`ANALYZE`); err != nil {
		b.Fatal(err)
	}
}
