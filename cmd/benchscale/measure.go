package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"switchboard/bot"
	"switchboard/config"
	"switchboard/i18n"
	"switchboard/internal/benchfig"
	"switchboard/internal/scaleseed"
	"switchboard/internal/testenv"
	"switchboard/store"
)

const (
	coordinator = "@coord:localhost"
	coordRoom   = "!coordinators:localhost"
)

// measureChild is the measuring process: the store opened as the bot opens it (its
// default pool, the start-up checks of sealed content), the core over it, and nothing
// else, so its memory is the core's and the store's at this size.
func measureChild(ctx context.Context, dsn string, decisions, runs int) error {
	defaults := config.Defaults()
	st, err := store.Open(ctx, dsn, store.Options{DataKey: testenv.DataKey,
		MaxOpenConns: defaults.Database.MaxOpenConns, MaxIdleConns: defaults.Database.MaxIdleConns}, zerolog.Nop())
	if err != nil {
		return err
	}
	defer st.Close()
	cat, err := i18n.Load()
	if err != nil {
		return err
	}
	cfg := config.CoreDefaults()
	cfg.StaffConversation, cfg.Staff = "!staff:localhost", []string{"@staff:localhost"}
	cfg.CoordinatorsConversation, cfg.Coordinators = coordRoom, []string{coordinator}
	svc := bot.NewService(st, cat, cfg, nil, zerolog.New(os.Stderr).Level(zerolog.WarnLevel), time.Now)

	var r result
	if err := routing(ctx, st, cfg, decisions, &r); err != nil {
		return err
	}
	seq, others := 0, 0
	command := func(text string) ([]time.Duration, []bot.Outgoing, error) {
		var lat []time.Duration
		var last []bot.Outgoing
		for range runs {
			seq++
			in := bot.Inbound{Platform: bot.Matrix, EventID: fmt.Sprintf("$scale%d-%d", os.Getpid(), seq), Sender: coordinator,
				Conversation: coordRoom, Text: text, Group: true, Device: bot.DeviceVerified}
			start := time.Now()
			if err := svc.Handle(ctx, in); err != nil {
				return nil, nil, fmt.Errorf("%s: %w", text, err)
			}
			lat = append(lat, time.Since(start))
			// What the turn committed for the room, taken out as the outbox would.
			last = last[:0]
			for after := int64(0); ; {
				out, err := st.PendingOutbox(ctx, bot.Matrix, after, 500)
				if err != nil {
					return nil, nil, err
				}
				if len(out) == 0 {
					break
				}
				for _, m := range out {
					if err := st.OutboxSent(ctx, m.ID); err != nil {
						return nil, nil, err
					}
					if m.Conversation == coordRoom {
						last = append(last, m)
					} else {
						others++
					}
					after = m.ID
				}
			}
			if len(last) == 0 {
				return nil, nil, fmt.Errorf("%s: no answer in the coordinators' room", text)
			}
		}
		return lat, last, nil
	}
	lat, out, err := command("!queue")
	if err != nil {
		return err
	}
	r.QueueP50, r.QueueP99 = pcts(lat)
	r.QueueShown = strings.Count(out[0].Plain, "SB-")
	if lat, out, err = command("!coverage"); err != nil {
		return err
	}
	r.CoverageP50, r.CoverageP99 = pcts(lat)
	if len(out) < 2 || out[1].Action != bot.ActionImage {
		return fmt.Errorf("!coverage: want the table and the heat map, got %d messages", len(out))
	}
	if lat, out, err = command("!stats"); err != nil {
		return err
	}
	r.StatsP50, r.StatsP99 = pcts(lat)
	if _, err := fmt.Sscanf(afterWord(out[0].Plain, "opened,"), "%d closed", &r.StatsClosed7d); err != nil {
		return fmt.Errorf("!stats answered %q: %w", out[0].Plain, err)
	}
	if err := st.DB.GetContext(ctx, &r.CoverageEntries, `SELECT count(*) FROM shifts s JOIN volunteers v ON v.id = s.volunteer_id
		WHERE v.status = 'active' OR (v.status = 'trainee' AND v.mentor_id IS NOT NULL)`); err != nil {
		return err
	}
	r.Runs, r.OtherMessages = runs, others
	r.RSSKiB, r.PeakKiB = benchfig.ProcKiB(0, "VmRSS"), benchfig.ProcKiB(0, "VmHWM")
	return json.NewEncoder(os.Stdout).Encode(r)
}

// routing times the routing decision as the core makes it (bot/routing.go: the same
// query, each in a transaction of its own) for queued cases in turn, and the sweep that
// picks the 20 oldest waiting cases to route.
func routing(ctx context.Context, st *store.Store, cfg bot.Config, decisions int, r *result) error {
	var cases []struct {
		ID       int64  `db:"id"`
		Language string `db:"language"`
		Queued   int64  `db:"queued_at"`
		Person   string `db:"external_id"`
	}
	if err := st.DB.SelectContext(ctx, &cases, `SELECT c.id, c.language, c.queued_at, p.external_id FROM cases c
		JOIN people p ON p.id = c.person_id WHERE c.state = 'queued' ORDER BY c.id`); err != nil {
		return err
	}
	if len(cases) == 0 {
		return fmt.Errorf("no queued case to route")
	}
	lat := make([]time.Duration, 0, decisions)
	for i := range decisions {
		c := cases[i%len(cases)]
		now := time.Now()
		start := time.Now()
		err := st.InTx(ctx, func(tx bot.Tx) error {
			v, err := tx.PickVolunteer(ctx, bot.RouteQuery{CaseID: c.ID, Requester: c.Person, Language: c.Language,
				Parties: scaleseed.PartiesOf(int(c.ID)), Now: now, OffersSince: time.UnixMilli(c.Queued), ExpiredBefore: now.Add(-cfg.OfferExpiry)})
			if v != nil {
				r.RouteFound++
			}
			return err
		})
		lat = append(lat, time.Since(start))
		if err != nil {
			return err
		}
	}
	r.Decisions = decisions
	r.RouteP50, r.RouteP99 = pcts(lat)
	lat = lat[:0]
	for range max(decisions/10, 10) {
		start := time.Now()
		if err := st.InTx(ctx, func(tx bot.Tx) error {
			cs, err := tx.WaitingCases(ctx, 20)
			if err == nil && len(cs) == 0 {
				err = fmt.Errorf("the sweep found no waiting case")
			}
			return err
		}); err != nil {
			return err
		}
		lat = append(lat, time.Since(start))
	}
	r.SweepP50, r.SweepP99 = pcts(lat)
	// The floor under this machine's load: one round trip to PostgreSQL.
	lat = lat[:0]
	for range decisions {
		start := time.Now()
		var one int
		if err := st.DB.QueryRowContext(ctx, `SELECT 1`).Scan(&one); err != nil {
			return err
		}
		lat = append(lat, time.Since(start))
	}
	r.FloorP50, r.FloorP99 = pcts(lat)
	return nil
}

func pcts(d []time.Duration) (p50, p99 float64) {
	s := benchfig.Sorted(d)
	return benchfig.Percentile(s, 0.50), benchfig.Percentile(s, 0.99)
}

func afterWord(s, word string) string {
	_, rest, _ := strings.Cut(s, word)
	return strings.TrimSpace(rest)
}
