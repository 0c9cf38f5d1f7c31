package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/lib/pq"

	"switchboard/bot"
)

// WaitingList lists volunteer-route cases waiting for a volunteer, oldest first, at
// most 200 of them, and counts them all. Staff-route cases are never in it:
// coordinators must not learn that they exist.
func (t *Tx) WaitingList(ctx context.Context) (_ []bot.Case, total int, err error) {
	defer wrap(&err, "list waiting cases")
	var rows []caseRow
	if err := t.tx.SelectContext(ctx, &rows, `SELECT `+caseColumns+` FROM cases
		WHERE route = 'volunteer' AND state IN ('queued', 'offered') ORDER BY queued_at, id LIMIT 200`); err != nil {
		return nil, 0, err
	}
	total = len(rows)
	if total == 200 {
		if err := t.tx.GetContext(ctx, &total, `SELECT count(*) FROM cases
			WHERE route = 'volunteer' AND state IN ('queued', 'offered')`); err != nil {
			return nil, 0, err
		}
	}
	cases, err := t.k.casesOf(rows)
	return cases, total, err
}

// Stats sums up volunteer-route work since a moment (staff-route cases are left out).
func (t *Tx) Stats(ctx context.Context, since time.Time) (_ bot.Stats, err error) {
	defer wrap(&err, "compute stats")
	var s bot.Stats
	var p50, p90, avg sql.NullFloat64
	err = t.tx.QueryRowxContext(ctx, `SELECT
		(SELECT count(*) FROM cases WHERE route = 'volunteer' AND queued_at >= $1),
		(SELECT count(*) FROM cases WHERE route = 'volunteer' AND state = 'closed' AND closed_at >= $1),
		(SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY first_reply_at - queued_at) FROM cases
			WHERE route = 'volunteer' AND first_reply_at >= $1 AND queued_at > 0),
		(SELECT percentile_cont(0.9) WITHIN GROUP (ORDER BY first_reply_at - queued_at) FROM cases
			WHERE route = 'volunteer' AND first_reply_at >= $1 AND queued_at > 0),
		(SELECT avg(feedback_rating) FROM cases WHERE route = 'volunteer' AND closed_at >= $1),
		(SELECT count(feedback_rating) FROM cases WHERE route = 'volunteer' AND closed_at >= $1),
		(SELECT count(*) FROM offers o JOIN cases c ON c.id = o.case_id
			WHERE c.route = 'volunteer' AND o.state = 'declined' AND o.answered_at >= $1),
		(SELECT count(*) FROM offers o JOIN cases c ON c.id = o.case_id
			WHERE c.route = 'volunteer' AND o.state = 'expired' AND o.answered_at >= $1)`, ms(since)).
		Scan(&s.Opened, &s.Closed, &p50, &p90, &avg, &s.Ratings, &s.Declined, &s.Expired)
	s.FirstReplyP50 = time.Duration(p50.Float64) * time.Millisecond
	s.FirstReplyP90 = time.Duration(p90.Float64) * time.Millisecond
	s.RatingAvg = avg.Float64
	return s, err
}

// CoverageShifts lists the shifts of everyone who can be offered cases.
func (t *Tx) CoverageShifts(ctx context.Context) (_ []bot.Shift, _ [][]string, err error) {
	defer wrap(&err, "load coverage shifts")
	var rows []struct {
		shiftRow
		Languages pq.StringArray `db:"languages"`
	}
	if err := t.tx.SelectContext(ctx, &rows, `SELECT s.id, s.volunteer_id, s.weekday, s.start_min, s.end_min, s.tz,
		v.languages FROM shifts s JOIN volunteers v ON v.id = s.volunteer_id
		WHERE v.status = 'active' OR (v.status = 'trainee' AND v.mentor_id IS NOT NULL)
		ORDER BY s.volunteer_id, s.id`); err != nil {
		return nil, nil, err
	}
	shifts := make([]bot.Shift, len(rows))
	langs := make([][]string, len(rows))
	for i, r := range rows {
		shifts[i], langs[i] = r.shift(), []string(r.Languages)
	}
	return shifts, langs, nil
}
