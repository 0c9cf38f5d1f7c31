package store

import (
	"context"
	"database/sql"
	"errors"
	"sync"

	"github.com/lib/pq"

	"switchboard/bot"
)

// pickSQL is the routing rule of docs/architecture.md in one round trip: among
// volunteers who may take cases (active, or a trainee whose mentor is active), are on
// duty now (by hand, or in a shift they did not switch off), speak the case's language,
// are under their limit, are not the requester, have told us their wiki name and are not
// named in the case (by the keyed hash of its comparison key, bot.NameKey) nor declared
// a conflict with its parties, and were not offered this case since it was last queued
// (a reopened case starts afresh), except that an offer left to expire counts only for
// a while (RouteQuery.ExpiredBefore): someone who missed it may be asked again when
// nobody else took it. Among these: first those not yet asked, then the least loaded,
// then the longest since their last offer. A candidate's load is counted once (load),
// for the limit and the order both.
// Who is on shift now ($9) is worked out once a minute (onShiftSQL), not here: with
// 6,000 shifts that was half of a decision's time. $10 is the shift_gen it was worked
// out at; when shifts have changed since, the decision finds nobody and PickVolunteer
// works the list out again.
// SKIP LOCKED lets concurrent routing decisions pass over a volunteer being assigned.
const pickSQL = `
SELECT v.id, v.user_id, v.wiki_username, v.status, v.mentor_id, v.languages, v.case_limit, v.on_until,
	v.off_until, v.dm_room, v.last_offer_at
FROM volunteers v
LEFT JOIN volunteers m ON m.id = v.mentor_id
CROSS JOIN LATERAL (SELECT count(*) AS n FROM cases c WHERE c.volunteer_id = v.id
	AND c.state IN ('offered', 'accepted', 'active')) load
WHERE (SELECT gen FROM shift_gen) = $10
	AND (v.status = 'active' OR (v.status = 'trainee' AND m.status = 'active'))
	AND v.dm_room <> ''
	AND v.wiki_key <> ''
	AND v.user_id <> $2
	AND ($3 = '' OR $3 = ANY (v.languages))
	AND NOT v.wiki_key = ANY ($4::text[])
	AND v.id NOT IN (SELECT c.volunteer_id FROM conflicts c WHERE c.name_key = ANY ($4::text[]))
	AND NOT EXISTS (SELECT 1 FROM offers o WHERE o.case_id = $5 AND o.volunteer_id = v.id AND o.offered_at >= $7
		AND (o.state <> 'expired' OR o.answered_at > $8))
	AND ($6::bigint = 0 OR v.id = $6)
	AND (v.on_until > $1 OR (v.off_until <= $1 AND v.id = ANY ($9::bigint[])))
	AND load.n < v.case_limit
ORDER BY EXISTS (SELECT 1 FROM offers o WHERE o.case_id = $5 AND o.volunteer_id = v.id AND o.offered_at >= $7),
	load.n, v.last_offer_at, v.id
LIMIT 1
FOR UPDATE OF v SKIP LOCKED`

// onShiftSQL lists who is on shift at $1 (unix ms), with the shift_gen it saw. Shifts
// are evaluated in their own time zone by PostgreSQL, so daylight-saving changes are
// handled by its zone database; the local time is worked out once per zone in use
// (zone_now), not once per shift.
const onShiftSQL = `
WITH zone_now AS MATERIALIZED (
	SELECT z.tz, extract(dow FROM l.lt)::int AS dow,
		(extract(hour FROM l.lt) * 60 + extract(minute FROM l.lt))::int AS minute
	FROM (SELECT DISTINCT tz FROM shifts) z,
		LATERAL (SELECT to_timestamp($1 / 1000.0) AT TIME ZONE z.tz AS lt) l
)
SELECT (SELECT gen FROM shift_gen) AS gen, ARRAY(
	SELECT DISTINCT s.volunteer_id FROM shifts s JOIN zone_now n ON n.tz = s.tz
	WHERE (s.end_min > s.start_min AND n.dow = s.weekday AND n.minute >= s.start_min AND n.minute < s.end_min)
		OR (s.end_min <= s.start_min AND ((n.dow = s.weekday AND n.minute >= s.start_min)
			OR (n.dow = (s.weekday + 1) % 7 AND n.minute < s.end_min)))
	ORDER BY 1) AS ids`

// onShiftCache keeps who is on shift for one minute, as of one shift_gen, for the
// decisions of that minute. Shifts start and end on whole minutes and zones are whole
// minutes apart, so the list holds for the whole minute.
type onShiftCache struct {
	mu     sync.Mutex
	minute int64
	gen    int64
	ids    pq.Int64Array
	ok     bool
}

func (c *onShiftCache) get(minute int64) (pq.Int64Array, int64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ids, c.gen, c.ok && c.minute == minute
}

func (c *onShiftCache) put(minute, gen int64, ids pq.Int64Array) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.minute, c.gen, c.ids, c.ok = minute, gen, ids, true
}

// onShift returns who is on shift in the minute of now, from the cache when it has it.
func (t *Tx) onShift(ctx context.Context, minute int64, fresh bool) (pq.Int64Array, int64, bool, error) {
	if !fresh {
		if ids, gen, ok := t.shifts.get(minute); ok {
			return ids, gen, true, nil
		}
	}
	var r struct {
		Gen int64         `db:"gen"`
		IDs pq.Int64Array `db:"ids"`
	}
	if err := t.tx.GetContext(ctx, &r, onShiftSQL, minute*60000); err != nil {
		return nil, 0, false, err
	}
	t.shifts.put(minute, r.Gen, r.IDs)
	return r.IDs, r.Gen, false, nil
}

// PickVolunteer applies the routing rule; nil means nobody fits now.
func (t *Tx) PickVolunteer(ctx context.Context, q bot.RouteQuery) (_ *bot.Volunteer, err error) {
	defer wrap(&err, "pick a volunteer for case %d", q.CaseID)
	minute := ms(q.Now) / 60000
	ids, gen, cached, err := t.onShift(ctx, minute, false)
	if err != nil {
		return nil, err
	}
	for {
		var r volunteerRow
		err = t.tx.GetContext(ctx, &r, pickSQL, ms(q.Now), q.Requester, q.Language,
			pq.StringArray(t.k.nameHashes(q.Parties)), q.CaseID, q.Only, ms0(q.OffersSince), ms0(q.ExpiredBefore),
			ids, gen)
		if err == nil {
			return r.volunteer(), nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
		if !cached {
			return nil, nil
		}
		// Nobody: perhaps because shifts changed since the list was worked out.
		var now int64
		if err := t.tx.GetContext(ctx, &now, `SELECT gen FROM shift_gen`); err != nil {
			return nil, err
		}
		if now == gen {
			return nil, nil
		}
		if ids, gen, cached, err = t.onShift(ctx, minute, true); err != nil {
			return nil, err
		}
	}
}

// WaitingCases lists and locks queued volunteer-route cases, oldest first.
func (t *Tx) WaitingCases(ctx context.Context, limit int) (_ []bot.Case, err error) {
	defer wrap(&err, "list queued cases")
	var rows []caseRow
	if err := t.tx.SelectContext(ctx, &rows, `SELECT `+caseColumns+` FROM cases
		WHERE state = 'queued' AND route = 'volunteer' ORDER BY queued_at, id LIMIT $1
		FOR UPDATE SKIP LOCKED`, limit); err != nil {
		return nil, err
	}
	return t.k.casesOf(rows)
}

// QueuePosition counts volunteer-route cases that have waited longer than c.
func (t *Tx) QueuePosition(ctx context.Context, c *bot.Case) (_ int, err error) {
	defer wrap(&err, "find the queue position of %s", c.Ref)
	var n int
	err = t.tx.GetContext(ctx, &n, `SELECT count(*) FROM cases WHERE route = 'volunteer'
		AND state IN ('queued', 'offered') AND (queued_at, id) < ($1, $2)`, ms0(c.QueuedAt), c.ID)
	return n, err
}
