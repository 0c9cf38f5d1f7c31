// Package scaleseed fills a Switchboard database quickly with volunteers and cases, in
// the shapes the store writes, for the benchmarks that need a desk at scale
// (cmd/benchscale, and cmd/loadtest's memory with many open cases).
package scaleseed

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/lib/pq"
	"github.com/rs/zerolog"

	"switchboard/store"
)

// Seeder fills the database with COPY, in the shapes the store writes: sealed columns
// sealed with the store's own Keys.Seal under the data key the measuring process opens
// the store with, and names hashed with Keys.NameHash. What it leaves out is listed in
// docs/benchmarks.md ("Scale").
type Seeder struct {
	db   *sql.DB
	keys *store.Keys
	// caseN is the last case, person and intake ID used.
	caseN int
	// active are the IDs of active volunteers, who carry the cases' load.
	active []int64
	open   int
}

// New opens dsn with the store first (every migration, and the record of which key the
// name hashes are under), then keeps a small pool of its own for the COPYs; dataKey is
// the store's data key.
func New(ctx context.Context, dsn, dataKey string) (*Seeder, error) {
	// The store creates the schema (every migration) and records which key the name
	// hashes are under, as the bot's first start does.
	st, err := store.Open(ctx, dsn, store.Options{DataKey: dataKey, MaxOpenConns: 2}, zerolog.Nop())
	if err != nil {
		return nil, err
	}
	st.Close()
	keys, err := store.NewKeys(dataKey)
	if err != nil {
		return nil, err
	}
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(2)
	// Cases (with their people and intakes) are numbered after what is there already.
	var last int
	if err := db.QueryRowContext(ctx, `SELECT greatest((SELECT coalesce(max(id), 0) FROM people),
		(SELECT coalesce(max(id), 0) FROM intakes), (SELECT coalesce(max(id), 0) FROM cases))`).Scan(&last); err != nil {
		db.Close()
		return nil, err
	}
	return &Seeder{db: db, keys: keys, caseN: last}, nil
}

// Close closes the pool.
func (s *Seeder) Close() { s.db.Close() }

// copyRows writes rows into table with one COPY, in one transaction.
func (s *Seeder) copyRows(ctx context.Context, table string, cols []string, rows func(put func(...any) error) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	stmt, err := tx.PrepareContext(ctx, pq.CopyIn(table, cols...))
	if err != nil {
		return err
	}
	if err := rows(func(v ...any) error { _, err := stmt.ExecContext(ctx, v...); return err }); err != nil {
		return fmt.Errorf("%s: %w", table, err)
	}
	if _, err := stmt.ExecContext(ctx); err != nil {
		return fmt.Errorf("%s: %w", table, err)
	}
	if err := stmt.Close(); err != nil {
		return err
	}
	return tx.Commit()
}

var (
	zones    = []string{"Europe/Berlin", "America/New_York", "Asia/Kolkata", "UTC", "Australia/Sydney", "America/Sao_Paulo", "Europe/Madrid"}
	langSets = [][]string{{"en"}, {"de", "en"}, {"fr", "en"}, {"es", "en"}, {"hi", "en"}, {"en"}, {"pt", "es"}, {"de"}}
	caseLang = []string{"en", "en", "en", "de", "fr", "es", "hi", "pt"}
)

// PartiesOf are the names a case's requester gave: one of 500 usernames, and one of
// the volunteers' (a case naming a volunteer must not reach them).
func PartiesOf(i int) []string {
	return []string{fmt.Sprintf("Harasser_%d", i%500), fmt.Sprintf("Vol%d", (i*7)%2000)}
}

// story is a description of the length people write (about 450 characters).
func story(i int) string {
	return fmt.Sprintf("Case %d. Since last month an editor has been following me from article to article, "+
		"reverting every edit I make within minutes and leaving comments on my talk page about my private life. "+
		"Yesterday they posted what they think is my home town and the name of my employer. I am frightened "+
		"to edit at all now. I reported one edit at the noticeboard but it was archived without an answer.", i)
}

// Volunteers writes n volunteers: seven in ten active, one a trainee with an active
// mentor, one an applicant, one suspended; each with three weekly shifts in one of
// several time zones, languages, a limit of 1 to 3 cases, a conflict declared, and one
// in seven on duty by hand.
func (s *Seeder) Volunteers(ctx context.Context, n int, now time.Time) error {
	var there int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM volunteers`).Scan(&there); err != nil || there > 0 {
		return fmt.Errorf("volunteers are numbered from 1: want none there, found %d (%v)", there, err)
	}
	status := func(i int) string {
		return []string{"active", "active", "active", "active", "active", "active", "active", "trainee", "applicant", "suspended"}[i%10]
	}
	err := s.copyRows(ctx, "volunteers", []string{"id", "user_id", "wiki_username", "status", "mentor_id", "languages",
		"case_limit", "on_until", "off_until", "dm_room", "last_offer_at", "created_at", "updated_at", "wiki_key"},
		func(put func(...any) error) error {
			for i := 1; i <= n; i++ {
				var mentor any
				if status(i) == "trainee" {
					mentor = int64(i - 1) // active: i-1 ends in 6
				}
				on := int64(0)
				if i%7 == 0 {
					on = now.Add(2 * time.Hour).UnixMilli()
				}
				name := fmt.Sprintf("Vol%d", i)
				if err := put(int64(i), fmt.Sprintf("@vol%d:localhost", i), name, status(i), mentor,
					pq.StringArray(langSets[i%len(langSets)]), 1+i%3, on, int64(0), fmt.Sprintf("!dm-vol%d:localhost", i),
					now.Add(-time.Duration(i)*time.Minute).UnixMilli(), now.UnixMilli(), now.UnixMilli(), s.keys.NameHash(name)); err != nil {
					return err
				}
				if status(i) == "active" {
					s.active = append(s.active, int64(i))
				}
			}
			return nil
		})
	if err != nil {
		return err
	}
	if err := s.copyRows(ctx, "shifts", []string{"volunteer_id", "weekday", "start_min", "end_min", "tz"}, func(put func(...any) error) error {
		for i := 1; i <= n; i++ {
			for k := range 3 {
				start := (i*37 + k*420) % 1260
				if err := put(int64(i), (i+2*k)%7, start, start+180, zones[(i+k)%len(zones)]); err != nil {
					return err
				}
			}
		}
		return nil
	}); err != nil {
		return err
	}
	if err := s.copyRows(ctx, "conflicts", []string{"volunteer_id", "username", "name_key"}, func(put func(...any) error) error {
		for i := 1; i <= n; i++ {
			name := fmt.Sprintf("Harasser_%d", (i*3)%500)
			if err := put(int64(i), s.keys.Seal("conflicts.username", name), s.keys.NameHash(name)); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return err
	}
	_, err = s.db.ExecContext(ctx, `SELECT setval('volunteers_id_seq', $1)`, n)
	return err
}

// aCase is one case to write, with its requester and intake.
type aCase struct {
	i                                      int
	state, route                           string
	queued, accepted, firstReply, closedAt time.Time
	volunteer                              int64
	purged                                 bool
	rating                                 int
}

// ClosedCases writes n closed cases over the last two years, as they stand after the
// retention purge of the default 90 days: the older ones emptied (content, safety
// answers and rooms erased, purged_at set, their intakes' answers erased), the recent
// ones whole. Each has its audit trail (eight events) and its accepted offer.
func (s *Seeder) ClosedCases(ctx context.Context, n int, now time.Time) error {
	cases := make([]aCase, n)
	span := 730 * 24 * time.Hour
	for k := range n {
		s.caseN++
		closedAt := now.Add(-time.Duration(float64(span) * float64(n-k) / float64(n)))
		queued := closedAt.Add(-time.Duration(2+k%70) * time.Hour)
		c := aCase{i: s.caseN, state: "closed", route: "volunteer", queued: queued,
			accepted: queued.Add(time.Duration(5+k%55) * time.Minute), closedAt: closedAt,
			purged: now.Sub(closedAt) > 90*24*time.Hour}
		c.firstReply = c.accepted.Add(time.Duration(1+k%20) * time.Minute)
		if k%10 == 0 {
			c.route = "staff"
		} else {
			c.volunteer = s.active[k%len(s.active)]
		}
		if k%3 == 0 {
			c.rating = 1 + k%5
		}
		cases[k] = c
	}
	return s.writeCases(ctx, cases, now)
}

// OpenCases brings the open or queued cases up to n: seven in ten queued, one offered
// (with its open offer), two being worked on by an active volunteer (their load).
func (s *Seeder) OpenCases(ctx context.Context, n int, now time.Time) error {
	var cases []aCase
	for k := s.open; k < n; k++ {
		s.caseN++
		c := aCase{i: s.caseN, route: "volunteer", queued: now.Add(-time.Duration(1+k%600) * time.Minute)}
		switch {
		case len(s.active) == 0:
			c.state = "queued" // no volunteer to work on it
		case k%10 == 7:
			c.state, c.volunteer = "offered", s.active[(k*13)%len(s.active)]
		case k%10 >= 8:
			c.state, c.volunteer = "active", s.active[(k*13)%len(s.active)]
			c.accepted, c.firstReply = c.queued.Add(5*time.Minute), c.queued.Add(8*time.Minute)
		default:
			c.state = "queued"
		}
		cases = append(cases, c)
	}
	s.open = n
	return s.writeCases(ctx, cases, now)
}

func ms0(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func (s *Seeder) writeCases(ctx context.Context, cases []aCase, now time.Time) error {
	if len(cases) == 0 {
		return nil
	}
	created := func(c aCase) time.Time { return c.queued.Add(-6 * time.Minute) }
	ended := func(c aCase) time.Time {
		if c.state == "closed" {
			return c.closedAt
		}
		return c.queued
	}
	if err := s.copyRows(ctx, "people", []string{"id", "platform", "external_id", "language", "created_at"}, func(put func(...any) error) error {
		for _, c := range cases {
			platform, ext := "matrix", fmt.Sprintf("@req%d:localhost", c.i)
			if c.i%5 == 0 {
				platform, ext = "irc", fmt.Sprintf("req%d", c.i)
			}
			if err := put(int64(c.i), platform, ext, "en", created(c).UnixMilli()); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return err
	}
	yes := func(c aCase, v bool) any {
		if c.purged {
			return nil
		}
		return v
	}
	if err := s.copyRows(ctx, "intakes", []string{"id", "person_id", "conversation", "status", "step", "q_harm", "q_minor",
		"q_illegal", "q_offwiki", "description", "parties", "project", "language", "created_at", "updated_at"},
		func(put func(...any) error) error {
			for _, c := range cases {
				desc, project := "", ""
				var parties any
				if !c.purged {
					desc, project = s.keys.Seal("intakes.description", story(c.i)), s.keys.Seal("intakes.project", "en.wikipedia.org")
					parties = pq.StringArray(sealAll(s.keys, "intakes.parties", PartiesOf(c.i)))
				}
				if err := put(int64(c.i), int64(c.i), fmt.Sprintf("!dm-req%d:localhost", c.i), "done", "done",
					yes(c, false), yes(c, false), yes(c, false), yes(c, c.i%4 == 0), desc, parties, project, caseLang[c.i%len(caseLang)],
					created(c).UnixMilli(), c.queued.UnixMilli()); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
		return err
	}
	if err := s.copyRows(ctx, "cases", []string{"id", "ref", "person_id", "intake_id", "route", "state", "q_harm", "q_minor",
		"q_illegal", "q_offwiki", "description", "parties", "party_keys", "project", "language", "conversation", "created_at",
		"updated_at", "volunteer_id", "room_id", "queued_at", "accepted_at", "first_reply_at", "closed_at", "close_reason",
		"feedback_rating", "feedback_comment", "relayed", "purged_at", "staff_id", "acked_at"},
		func(put func(...any) error) error {
			for _, c := range cases {
				desc, project, comment, room := "", s.keys.Seal("cases.project", "en.wikipedia.org"), "", ""
				parties, keys := pq.StringArray{}, pq.StringArray{}
				var purgedAt int64
				if c.purged {
					purgedAt = c.closedAt.Add(91 * 24 * time.Hour).UnixMilli()
				} else {
					desc = s.keys.Seal("cases.description", story(c.i))
					parties = sealAll(s.keys, "cases.parties", PartiesOf(c.i))
					for _, p := range PartiesOf(c.i) {
						keys = append(keys, s.keys.NameHash(p))
					}
					if c.state != "queued" {
						room = fmt.Sprintf("!case%d:localhost", c.i)
					}
					if c.rating > 0 && c.i%2 == 0 {
						comment = s.keys.Seal("cases.feedback_comment", "Thank you, it helped to have someone look at it.")
					}
				}
				var vol, rating any
				if c.volunteer != 0 {
					vol = c.volunteer
				}
				if c.rating > 0 {
					rating = c.rating
				}
				staffID, acked, reason := "", int64(0), ""
				if c.route == "staff" {
					staffID, acked = "@staff:localhost", c.accepted.UnixMilli()
				}
				if c.state == "closed" {
					reason = "resolved"
				}
				if err := put(int64(c.i), fmt.Sprintf("SB-%06d", c.i), int64(c.i), int64(c.i), c.route, c.state,
					yes(c, false), yes(c, false), yes(c, false), yes(c, c.i%4 == 0), desc, parties, keys, project,
					caseLang[c.i%len(caseLang)], fmt.Sprintf("!dm-req%d:localhost", c.i), c.queued.UnixMilli(), ended(c).UnixMilli(),
					vol, room, c.queued.UnixMilli(), ms0(c.accepted), ms0(c.firstReply), ms0(c.closedAt), reason,
					rating, comment, c.state != "queued", purgedAt, staffID, acked); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
		return err
	}
	first, last := cases[0].i, cases[len(cases)-1].i
	if _, err := s.db.ExecContext(ctx, `UPDATE intakes SET case_id = id WHERE id BETWEEN $1 AND $2`, first, last); err != nil {
		return err
	}
	if err := s.copyRows(ctx, "offers", []string{"case_id", "volunteer_id", "state", "offered_at", "answered_at"}, func(put func(...any) error) error {
		for _, c := range cases {
			if c.volunteer == 0 {
				continue
			}
			state, answered := "accepted", ms0(c.accepted)
			if c.state == "offered" {
				state, answered = "open", 0
			}
			if err := put(int64(c.i), c.volunteer, state, c.queued.UnixMilli(), answered); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return err
	}
	// The audit trail: what the bot records for a case from the first hello to its end.
	if err := s.copyRows(ctx, "case_events", []string{"case_id", "intake_id", "actor", "kind", "at", "subject"}, func(put func(...any) error) error {
		for _, c := range cases {
			type ev struct {
				kind, actor, subject string
				at                   time.Time
			}
			vol := fmt.Sprintf("@vol%d:localhost", c.volunteer)
			evs := []ev{{"intake_started", "bot", "", created(c)}, {"intake_completed", "bot", "", c.queued}, {"case_opened", "bot", "", c.queued}}
			if c.volunteer != 0 {
				evs = append(evs, ev{"offered", "bot", vol, c.queued})
				if c.state != "offered" && c.state != "queued" {
					evs = append(evs, ev{"accepted", vol, "", c.accepted}, ev{"joined", vol, "", c.accepted}, ev{"message", vol, "", c.firstReply})
				}
			} else if c.route == "staff" {
				evs = append(evs, ev{"paged", "bot", "", c.queued}, ev{"acked", "@staff:localhost", "", c.accepted},
					ev{"joined", "@staff:localhost", "", c.accepted}, ev{"message", "@staff:localhost", "", c.firstReply})
			}
			if c.state == "closed" {
				evs = append(evs, ev{"case_closed", "bot", "", c.closedAt})
			}
			for _, e := range evs {
				var intake any
				if strings.HasPrefix(e.kind, "intake_") {
					intake = int64(c.i)
				}
				if err := put(int64(c.i), intake, e.actor, e.kind, e.at.UnixMilli(), e.subject); err != nil {
					return err
				}
			}
		}
		return nil
	}); err != nil {
		return err
	}
	for _, q := range []string{`SELECT setval('people_id_seq', $1)`, `SELECT setval('intakes_id_seq', $1)`, `SELECT setval('cases_id_seq', $1)`} {
		if _, err := s.db.ExecContext(ctx, q, last); err != nil {
			return err
		}
	}
	return nil
}

func sealAll(k *store.Keys, column string, plain []string) pq.StringArray {
	out := make(pq.StringArray, len(plain))
	for i, p := range plain {
		out[i] = k.Seal(column, p)
	}
	return out
}

// Analyze brings the planner's statistics and the visibility map up to date, as
// autovacuum would on a database that has been running for a while.
func (s *Seeder) Analyze(ctx context.Context) error {
	_, err := s.db.ExecContext(ctx, `VACUUM (ANALYZE)`)
	return err
}

// Sizes are the bytes the tables take, with their indexes and TOAST.
type Sizes struct {
	Total   int64
	byTable map[string]int64
}

// Size sums pg_total_relation_size (heap, indexes, TOAST) over the schema's tables.
func (s *Seeder) Size(ctx context.Context) (Sizes, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r'`)
	if err != nil {
		return Sizes{}, err
	}
	defer rows.Close()
	out := Sizes{byTable: map[string]int64{}}
	for rows.Next() {
		var name string
		var n int64
		if err := rows.Scan(&name, &n); err != nil {
			return Sizes{}, err
		}
		out.byTable[name] = n
		out.Total += n
	}
	return out, rows.Err()
}

// Minus says which tables grew since b, largest first.
func (a Sizes) Minus(b Sizes) string {
	type grown struct {
		name string
		n    int64
	}
	var g []grown
	for name, n := range a.byTable {
		if d := n - b.byTable[name]; d > 0 {
			g = append(g, grown{name, d})
		}
	}
	sort.Slice(g, func(i, j int) bool { return g[i].n > g[j].n })
	var parts []string
	for _, x := range g {
		parts = append(parts, fmt.Sprintf("%s %.1f MiB", x.name, float64(x.n)/(1<<20)))
	}
	return strings.Join(parts, ", ")
}
