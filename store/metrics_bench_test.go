package store_test

import (
	"context"
	"testing"
	"time"

	"switchboard/internal/testenv"
)

// BenchmarkMetricsScrape is what one /metrics scrape costs the database: the
// snapshot's queries over a desk with years of history (20,000 cases, 400,000 audit
// rows, 200 outbox rows waiting). ns/op is a scrape after the first.
func BenchmarkMetricsScrape(b *testing.B) {
	ctx := context.Background()
	st := openStore(b, testenv.NewDB(b))
	const cases = 20000
	for _, q := range []string{
		`INSERT INTO people (id, platform, external_id, created_at) SELECT i, 'matrix', '@p' || i || ':localhost', i FROM generate_series(1, $1) i`,
		`INSERT INTO intakes (id, person_id, conversation, status, step, created_at, updated_at)
			SELECT i, i, '!dm' || i, 'done', 'done', i, i FROM generate_series(1, $1) i`,
		`INSERT INTO cases (id, ref, person_id, intake_id, route, state, conversation, created_at, updated_at, queued_at, accepted_at, first_reply_at, acked_at)
			SELECT i, 'SB-' || i, i, i, CASE WHEN i % 10 = 0 THEN 'staff' ELSE 'volunteer' END,
				CASE WHEN i > $1 - 50 THEN 'queued' ELSE 'closed' END, '!dm' || i, i * 60000, i * 60000,
				i * 60000, i * 60000 + (i % 97) * 60000, i * 60000 + (i % 131) * 60000, CASE WHEN i % 10 = 0 THEN i * 60000 + (i % 17) * 60000 ELSE 0 END
			FROM generate_series(1, $1) i`,
		`INSERT INTO case_events (case_id, actor, kind, at)
			SELECT i % $1 + 1, 'bot', (ARRAY['intake_started', 'intake_completed', 'case_opened', 'offered', 'offer_declined', 'accepted',
				'paged', 'acked', 'case_closed', 'message', 'note', 'joined', 'offer_expired', 'escalated', 'page_failed', 'intake_cancelled',
				'reopened', 'feedback', 'transferred', 'status'])[i % 20 + 1], i FROM generate_series(1, $1 * 20) i`,
		`INSERT INTO outbox (platform, conversation, plain, markdown, created_at) SELECT 'matrix', '!dm' || i, 'text', 'text', i FROM generate_series(1, $1 / 100) i`,
	} {
		if _, err := st.DB.ExecContext(ctx, q, cases); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := st.DB.ExecContext(ctx, `ANALYZE`); err != nil {
		b.Fatal(err)
	}
	now := time.UnixMilli(int64(cases+200) * 60000)
	// The first scrape of a process counts the whole audit log; later ones read
	// only what was added since (see store.eventCounts).
	start := time.Now()
	snap, err := st.Metrics(ctx, now)
	if err != nil {
		b.Fatal(err)
	}
	first := time.Since(start)
	for b.Loop() {
		if snap, err = st.Metrics(ctx, now); err != nil {
			b.Fatal(err)
		}
	}
	// After the loop: b.Loop's start drops metrics reported before it.
	b.ReportMetric(float64(first.Milliseconds()), "first-scrape-ms")
	if snap.Events["case_opened"] != cases || snap.QueueWait.Count == 0 || snap.Outbox["matrix"].Rows != 200 {
		b.Fatalf("the snapshot does not see the history: %d opened, %d waits, %d outbox rows",
			snap.Events["case_opened"], snap.QueueWait.Count, snap.Outbox["matrix"].Rows)
	}
}
