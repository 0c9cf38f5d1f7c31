package sim

import (
	"errors"
	"fmt"
	"time"

	"github.com/lib/pq"

	"switchboard/bot"
)

// The invariants checked every few simulated minutes: nobody falls through. The first
// six are those of store's TestLifecycleInvariants, over a whole week instead of random
// steps; the last asks the core's own routing rule whether a waiting case could have
// been offered to someone.
var orphanChecks = []struct{ kind, what, sql string }{
	{"orphan", "a queued case without its reassurance", `SELECT ref FROM cases c WHERE route = 'volunteer' AND state IN ('queued', 'offered')
		AND NOT EXISTS (SELECT 1 FROM timers WHERE kind = 'reassure' AND subject = c.id)`},
	{"orphan", "an offered case whose offer cannot expire", `SELECT c.ref FROM cases c WHERE state = 'offered' AND NOT EXISTS (
		SELECT 1 FROM offers o JOIN timers t ON t.kind = 'offer_expiry' AND t.subject = o.id WHERE o.case_id = c.id AND o.state = 'open')`},
	{"orphan", "a worked case without its worker", `SELECT ref FROM cases WHERE state IN ('accepted', 'active')
		AND ((route = 'volunteer' AND volunteer_id IS NULL) OR (route = 'staff' AND staff_id = ''))`},
	{"orphan", "a staff-route case nobody is paged for", `SELECT ref FROM cases c WHERE route = 'staff' AND state IN ('intake', 'staff')
		AND staff_id = '' AND NOT EXISTS (SELECT 1 FROM timers WHERE kind = 'page_ack' AND subject = c.id)
		AND NOT EXISTS (SELECT 1 FROM case_events WHERE case_id = c.id AND kind = 'paging_exhausted')`},
	{"orphan", "a case with two open offers", `SELECT c.ref FROM cases c WHERE (SELECT count(*) FROM offers o
		WHERE o.case_id = c.id AND o.state = 'open') > 1`},
	{"page-unacked", "paging gave up: nobody acknowledged, and nobody is paged any more", `SELECT c.ref FROM cases c WHERE staff_id = ''
		AND state NOT IN ('closed', 'withdrawn')
		AND EXISTS (SELECT 1 FROM case_events WHERE case_id = c.id AND kind = 'paging_exhausted')
		AND NOT EXISTS (SELECT 1 FROM timers WHERE kind = 'page_ack' AND subject = c.id)`},
}

// checkState looks for anyone fallen through. At the end it also lists every request
// still waiting for a human.
func (s *Sim) checkState(final bool) {
	if s.calls == s.checkedAt && !final {
		// Nothing changed since the last check but the time: only the routing rule,
		// which depends on it (shifts), has to be asked again.
		if !s.cfg.Broadcast {
			s.waitingWhileFree()
		}
		return
	}
	s.checkedAt = s.calls
	for _, q := range orphanChecks {
		var refs []string
		if err := s.eyes.DB.Select(&refs, q.sql); err != nil {
			s.fatal(err)
		}
		for _, r := range refs {
			s.breach(q.kind, r, q.what)
		}
	}
	if !s.cfg.Broadcast {
		s.waitingWhileFree()
	}
	if !final {
		return
	}
	var open []struct {
		Ref   string `db:"ref"`
		Route string `db:"route"`
	}
	// As the report counts it: no volunteer accepted and no staff member acknowledged
	// (a case offered to someone who has not answered yet is not helped either).
	if err := s.eyes.DB.Select(&open, `SELECT ref, route FROM cases c WHERE state NOT IN ('closed', 'withdrawn')
		AND NOT EXISTS (SELECT 1 FROM case_events e WHERE e.case_id = c.id AND e.kind IN ($1, $2))
		ORDER BY id`, string(bot.EventAccepted), string(bot.EventAcked)); err != nil {
		s.fatal(err)
	}
	for _, c := range open {
		s.breach("never-helped", c.Ref, fmt.Sprintf("a %s-route case still waiting for a human when the simulation ended", c.Route))
	}
}

// waitingWhileFree asks the core's routing rule (store.PickVolunteer, in a transaction
// rolled back) whether each queued case has a volunteer who fits right now. In direct
// mode such a case should have been offered: it waits while help is free.
func (s *Sim) waitingWhileFree() {
	fits := s.fitting
	if key := s.dutyKey(); s.calls != s.checked.calls || key != s.checked.key || fits == nil {
		fits = s.fitNow()
		s.checked = snapshot{s.calls, key}
	}
	// app.Run's sweep runs every minute, so a case that a volunteer fits at one check
	// may be offered to them before the next; when the same volunteer still fits it at
	// the next check, they stayed free for the whole time and the case was passed over.
	// (Another volunteer fitting it then is no proof: they may have just come free.)
	for ref, v := range fits {
		if s.fitting[ref] == v {
			s.waitedFree[ref] += checkEvery
			s.breach("waiting-while-free", ref, "queued while a volunteer who fits was on duty and under their limit")
		}
	}
	s.fitting = fits
}

// anyoneFree asks the routing rule (store.PickVolunteer, in a transaction rolled back)
// about a case no clause excludes anyone from: no language, no parties, no earlier
// offers, no requester among the volunteers. Every queued case's candidates are among
// the volunteers it would pick from, so when it finds nobody, no queued case can be
// offered now: the sweep would change nothing and the check has nothing to ask. In a
// flood, when everyone on duty is at their limit, this spares a routing query for each
// queued case every minute.
func (s *Sim) anyoneFree() bool {
	at := snapshot{s.calls, s.dutyKey()}
	if s.freeKnown && s.freeAt == at {
		return s.free
	}
	var v *bot.Volunteer
	err := s.eyes.InTx(s.ctx, func(tx bot.Tx) error {
		var err error
		if v, err = tx.PickVolunteer(s.ctx, bot.RouteQuery{Now: s.now()}); err != nil {
			return err
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		s.fatal(err)
	}
	s.free, s.freeAt, s.freeKnown = v != nil, at, true
	return s.free
}

// fitNow lists the queued cases that some volunteer fits now, and whom the routing
// rule would pick for each.
func (s *Sim) fitNow() map[string]int64 {
	if !s.anyoneFree() {
		return map[string]int64{}
	}
	var queued []struct {
		ID        int64          `db:"id"`
		Ref       string         `db:"ref"`
		Language  string         `db:"language"`
		Parties   pq.StringArray `db:"parties"`
		QueuedAt  int64          `db:"queued_at"`
		Requester string         `db:"external_id"`
	}
	if err := s.eyes.DB.Select(&queued, `SELECT c.id, c.ref, c.language, c.parties, c.queued_at, p.external_id
		FROM cases c JOIN people p ON p.id = c.person_id WHERE c.route = 'volunteer' AND c.state = 'queued' ORDER BY c.id`); err != nil {
		s.fatal(err)
	}
	// One transaction for all (rolled back): the routing query locks the volunteer it
	// finds, which does not hide them from the same transaction's next question.
	fits := map[string]int64{}
	err := s.eyes.InTx(s.ctx, func(tx bot.Tx) error {
		clear(fits)
		for _, c := range queued {
			v, err := tx.PickVolunteer(s.ctx, bot.RouteQuery{CaseID: c.ID, Requester: c.Requester, Language: c.Language,
				Parties: c.Parties, Now: s.now(), OffersSince: time.UnixMilli(c.QueuedAt)})
			if err != nil {
				return err
			}
			if v != nil {
				fits[c.Ref] = v.ID
			}
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		s.fatal(err)
	}
	return fits
}

// sample records the queues for the report's figure.
func (s *Sim) sample() {
	var q Sample
	q.At = s.now()
	if err := s.eyes.DB.Get(&q, `SELECT
		count(*) FILTER (WHERE route = 'volunteer' AND state IN ('queued', 'offered')) AS queue,
		count(*) FILTER (WHERE route = 'staff' AND staff_id = '' AND state NOT IN ('closed', 'withdrawn')) AS staff_queue,
		count(*) FILTER (WHERE state IN ('accepted', 'active')) AS in_hand
		FROM cases`); err != nil {
		s.fatal(err)
	}
	q.OnDuty = len(s.onDutyNow())
	q.At = q.At.UTC()
	s.rep.Series = append(s.rep.Series, q)
}

func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v)
}
