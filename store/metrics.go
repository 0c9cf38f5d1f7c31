package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/lib/pq"

	"switchboard/bot"
)

// Snapshot is what the metrics endpoint reads from the database at each scrape. It is
// counted from the audit log and the cases themselves, so its counters survive
// restarts and are the same whichever replica reads them. It holds numbers only:
// never a person, a room or a reference.
type Snapshot struct {
	Cases       map[[2]string]int64 // (route, state) → cases
	Events      map[string]int64    // audit event kind → rows ever written
	PageFailed  map[string]int64    // channel → page_failed rows
	Outbox      map[string]OutboxBacklog
	OpenIntakes int64
	Waitlist    int64
	// OldestQueued is how long the longest-waiting volunteer-route case has waited
	// for a volunteer (0 when none waits).
	OldestQueued time.Duration
	// OldestUnacked is how long the oldest open staff-route case has gone without a
	// staff member acknowledging it (0 when none).
	OldestUnacked time.Duration
	// Histograms of durations over every case that got that far.
	QueueWait  Histogram            // queued → accepted (volunteer route)
	FirstReply map[string]Histogram // route → opened → the worker's first reply in the case room
	AckTime    Histogram            // staff route: opened → acknowledged
}

// OutboxBacklog is one platform's waiting messages.
type OutboxBacklog struct {
	Rows   int64
	Oldest time.Duration
}

// Histogram is a cumulative histogram: Counts[i] cases took at most Bounds[i].
type Histogram struct {
	Counts []uint64
	Count  uint64
	Sum    time.Duration
}

// MetricBuckets are the histogram bounds of every duration metric: from a minute to
// a day, which spans an on-call acknowledgement and a volunteer's weekend.
var MetricBuckets = []time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour}

// MetricEvents are the audit kinds counted for metrics.
var MetricEvents = kinds(bot.EventIntakeStarted, bot.EventIntakeCompleted, bot.EventIntakeCancelled,
	bot.EventIntakeExpired, bot.EventCaseOpened, bot.EventCaseClosed, bot.EventCaseWithdrawn, bot.EventEscalated,
	bot.EventOffered, bot.EventAccepted, bot.EventOfferDeclined, bot.EventOfferExpired, bot.EventPaged,
	bot.EventAcked, bot.EventPageFailed, bot.EventPagingExhausted)

func kinds(ks ...bot.EventKind) []string {
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = string(k)
	}
	return out
}

// histogramSQL selects count, sum and one cumulative count per bucket of expr (ms)
// over the cases where cond holds.
func histogramSQL(expr, cond, group string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "SELECT %s count(*), COALESCE(sum(%s), 0)", group, expr)
	for _, d := range MetricBuckets {
		fmt.Fprintf(&b, ", count(*) FILTER (WHERE %s <= %d)", expr, d.Milliseconds())
	}
	fmt.Fprintf(&b, " FROM cases WHERE %s", cond)
	if group != "" {
		fmt.Fprintf(&b, " GROUP BY %s", strings.TrimSuffix(strings.TrimSpace(group), ","))
	}
	return b.String()
}

var (
	queueWaitSQL  = histogramSQL("accepted_at - queued_at", "route = 'volunteer' AND accepted_at > 0 AND queued_at > 0 AND accepted_at >= queued_at", "")
	firstReplySQL = histogramSQL("first_reply_at - created_at", "first_reply_at > 0 AND first_reply_at >= created_at", "route,")
	ackTimeSQL    = histogramSQL("acked_at - created_at", "route = 'staff' AND acked_at > 0 AND acked_at >= created_at", "")
)

// Metrics reads a Snapshot. The audit log, the one table that grows without bound,
// is read incrementally (eventCounts); the rest are aggregates over the cases and
// small tables (docs/benchmarks.md: BenchmarkMetricsScrape).
func (s *Store) Metrics(ctx context.Context, now time.Time) (snap Snapshot, err error) {
	defer wrap(&err, "read metrics")
	snap = Snapshot{Cases: map[[2]string]int64{}, Events: map[string]int64{}, PageFailed: map[string]int64{},
		Outbox: map[string]OutboxBacklog{}, FirstReply: map[string]Histogram{}}
	rows, err := s.DB.QueryContext(ctx, `SELECT route, state, count(*) FROM cases GROUP BY route, state`)
	if err != nil {
		return snap, err
	}
	for rows.Next() {
		var route, state string
		var n int64
		if err := rows.Scan(&route, &state, &n); err != nil {
			rows.Close()
			return snap, err
		}
		snap.Cases[[2]string{route, state}] = n
	}
	if err := rows.Close(); err != nil {
		return snap, err
	}
	counts, err := s.events.read(ctx, s.DB.DB, now)
	if err != nil {
		return snap, err
	}
	for k, n := range counts {
		snap.Events[k.kind] += n
		if k.kind == string(bot.EventPageFailed) {
			snap.PageFailed[k.channel] += n
		}
	}
	rows, err = s.DB.QueryContext(ctx, `SELECT platform, count(*), min(created_at) FROM outbox GROUP BY platform`)
	if err != nil {
		return snap, err
	}
	for rows.Next() {
		var platform string
		var n, oldest int64
		if err := rows.Scan(&platform, &n, &oldest); err != nil {
			rows.Close()
			return snap, err
		}
		snap.Outbox[platform] = OutboxBacklog{Rows: n, Oldest: max(0, now.Sub(fromMS(oldest)))}
	}
	if err := rows.Close(); err != nil {
		return snap, err
	}
	var oldestQueued, oldestUnacked int64
	if err := s.DB.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM intakes WHERE status = 'open'),
		(SELECT count(*) FROM intake_waitlist),
		(SELECT COALESCE(min(queued_at), 0) FROM cases WHERE route = 'volunteer' AND state IN ('queued', 'offered') AND queued_at > 0),
		(SELECT COALESCE(min(created_at), 0) FROM cases WHERE route = 'staff' AND staff_id = '' AND state NOT IN ('withdrawn', 'closed'))`).
		Scan(&snap.OpenIntakes, &snap.Waitlist, &oldestQueued, &oldestUnacked); err != nil {
		return snap, err
	}
	if oldestQueued > 0 {
		snap.OldestQueued = max(0, now.Sub(fromMS(oldestQueued)))
	}
	if oldestUnacked > 0 {
		snap.OldestUnacked = max(0, now.Sub(fromMS(oldestUnacked)))
	}
	if snap.QueueWait, err = s.histogram(ctx, queueWaitSQL); err != nil {
		return snap, err
	}
	if snap.AckTime, err = s.histogram(ctx, ackTimeSQL); err != nil {
		return snap, err
	}
	rows, err = s.DB.QueryContext(ctx, firstReplySQL)
	if err != nil {
		return snap, err
	}
	for rows.Next() {
		var route string
		h, err := scanHistogram(rows.Scan, &route)
		if err != nil {
			rows.Close()
			return snap, err
		}
		snap.FirstReply[route] = h
	}
	return snap, rows.Close()
}

// eventCounts keeps the audit log's counts between scrapes. The log is append-only,
// so the rows up to a watermark are counted once, and a scrape reads only the rows
// after it (a range of the primary key) instead of the whole log, which grows for
// as long as the desk runs.
type eventCounts struct {
	mu     sync.Mutex
	upTo   int64 // every row with id <= upTo is in counts
	counts map[eventKey]int64
}

type eventKey struct{ kind, channel string }

// settleWindow: the rows of an event older than this are taken as all committed, so
// the watermark may pass them. IDs are handed out before commit, so a lower ID can
// still be invisible while a higher one is counted; a turn is one short transaction,
// never open for minutes. Newer rows are counted afresh at each scrape.
const settleWindow = 5 * time.Minute

// The detail key is a parameter: it is the core's JSON, not a name the SQL checks.
// The cut is the highest ID up to which every row is settled.
const eventCountsSQL = `WITH fresh AS (
	SELECT id, kind, CASE WHEN kind = $3 THEN COALESCE(detail->>$4, '') ELSE '' END AS channel, at
	FROM case_events WHERE id > $1 AND kind = ANY($2)
), cut AS (
	SELECT COALESCE((SELECT min(id) - 1 FROM fresh WHERE at >= $5), (SELECT max(id) FROM fresh)) AS id
)
SELECT kind, channel, count(*) FILTER (WHERE id <= (SELECT id FROM cut)), count(*), (SELECT id FROM cut)
FROM fresh GROUP BY kind, channel`

// read returns the count of every (kind, channel) of MetricEvents up to now.
func (e *eventCounts) read(ctx context.Context, db *sql.DB, now time.Time) (map[eventKey]int64, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	rows, err := db.QueryContext(ctx, eventCountsSQL, e.upTo, pq.StringArray(MetricEvents), string(bot.EventPageFailed),
		"channel", ms(now.Add(-settleWindow)))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	settled, out := map[eventKey]int64{}, map[eventKey]int64{}
	upTo := e.upTo
	for rows.Next() {
		var k eventKey
		var done, all int64
		if err := rows.Scan(&k.kind, &k.channel, &done, &all, &upTo); err != nil {
			return nil, err
		}
		settled[k] += done
		out[k] += all
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if e.counts == nil {
		e.counts = map[eventKey]int64{}
	}
	for k, n := range settled {
		e.counts[k] += n
	}
	e.upTo = upTo
	for k, n := range e.counts {
		out[k] += n - settled[k]
	}
	return out, nil
}

func (s *Store) histogram(ctx context.Context, query string) (Histogram, error) {
	return scanHistogram(s.DB.QueryRowContext(ctx, query).Scan)
}

func scanHistogram(scan func(...any) error, lead ...any) (Histogram, error) {
	h := Histogram{Counts: make([]uint64, len(MetricBuckets))}
	var sum int64
	dest := append(lead, &h.Count, &sum)
	for i := range h.Counts {
		dest = append(dest, &h.Counts[i])
	}
	if err := scan(dest...); err != nil {
		return h, err
	}
	h.Sum = time.Duration(sum) * time.Millisecond
	return h, nil
}
