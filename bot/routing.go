package bot

// Routing: which volunteer a queued case is offered to, and the timers that watch
// the queue. The rule itself is one query (store.PickVolunteer).

import "time"

// RouteQuery is what routing needs to know about a case.
type RouteQuery struct {
	CaseID    int64
	Requester string // the requester's platform ID, so they are never their own volunteer
	Language  string
	Parties   []string
	Now       time.Time
	// Only, when set, asks whether this one volunteer fits (broadcast mode's check).
	Only int64
	// OffersSince: offers of the case made before then do not exclude a volunteer (the
	// case was reopened since; zero: every offer counts).
	OffersSince time.Time
	// ExpiredBefore: an offer of the case that expired before then no longer excludes
	// its volunteer (zero: it always does).
	ExpiredBefore time.Time
}

// routeSweep bounds how many waiting cases one turn tries to place.
const routeSweep = 20

// routeWaiting offers waiting cases, oldest first, to whoever fits now.
func (t *turn) routeWaiting(limit int) (err error) {
	defer wrapf(&err, "route waiting cases")
	if t.s.cfg.Broadcast {
		return nil // announced once when queued; volunteers pick from the room
	}
	cases, err := t.tx.WaitingCases(t.ctx, limit)
	if err != nil {
		return err
	}
	for i := range cases {
		if err := t.route(&cases[i]); err != nil {
			return err
		}
	}
	return nil
}

// route offers a queued case to the volunteer the routing rule picks, if any. The
// offer says the reference, the language and a one-line category: never who asked or
// what happened.
func (t *turn) route(c *Case) (err error) {
	defer wrapf(&err, "route case %s", c.Ref)
	if t.s.cfg.Broadcast {
		return t.announce(c)
	}
	p, err := t.tx.PersonByID(t.ctx, c.PersonID)
	if err != nil {
		return err
	}
	v, err := t.tx.PickVolunteer(t.ctx, RouteQuery{CaseID: c.ID, Requester: p.ExternalID, Language: c.Language,
		Parties: c.Parties, Now: t.now, OffersSince: c.QueuedAt, ExpiredBefore: t.now.Add(-t.s.cfg.OfferExpiry)})
	if err != nil || v == nil {
		return err
	}
	o := &Offer{CaseID: c.ID, VolunteerID: v.ID, State: OfferOpen, OfferedAt: t.now}
	if err := t.tx.CreateOffer(t.ctx, o); err != nil {
		return err
	}
	from := c.State
	c.State, c.VolunteerID, c.UpdatedAt = StateOffered, v.ID, t.now
	if err := t.tx.UpdateCase(t.ctx, c, from); err != nil {
		return err
	}
	v.LastOfferAt = t.now
	if err := t.tx.SaveVolunteer(t.ctx, v, t.now); err != nil {
		return err
	}
	if err := t.setTimer(Timer{Kind: TimerOfferExpiry, Subject: o.ID, Due: t.now.Add(t.s.cfg.OfferExpiry)}); err != nil {
		return err
	}
	if err := t.tx.AppendEvent(t.ctx, Event{CaseID: c.ID, Actor: "bot", Subject: v.UserID, Kind: EventOffered, At: t.now}); err != nil {
		return err
	}
	minutes := int(t.s.cfg.OfferExpiry.Minutes())
	category, _ := t.s.cat.Render(t.s.cfg.DefaultLanguage, "switchboard-category-everyday", c.Project)
	return t.send(Matrix, v.DMRoom, t.s.cfg.DefaultLanguage, false, false,
		say("switchboard-offer", c.Ref, c.Language, category, minutes))
}

// queued is what a requester hears when their everyday case enters the queue: where
// it stands, honestly, and that waiting is watched.
func (t *turn) enterQueue(c *Case) (err error) {
	defer wrapf(&err, "queue case %s", c.Ref)
	pos, err := t.tx.QueuePosition(t.ctx, c)
	if err != nil {
		return err
	}
	if err := t.armQueueTimers(c); err != nil {
		return err
	}
	position := say("switchboard-queue-position", pos)
	if pos == 0 {
		position = say("switchboard-queue-first")
	}
	if err := t.reply(say("switchboard-case-opened", c.Ref), position); err != nil {
		return err
	}
	return t.route(c)
}

// armQueueTimers watches a queued case: coordinators hear when it waits too long, and
// the requester is told now and then that they are not forgotten.
func (t *turn) armQueueTimers(c *Case) error {
	for _, tm := range []Timer{
		{Kind: TimerQueueAlert, Subject: c.ID, Due: t.now.Add(t.s.cfg.QueueAlertAfter)},
		{Kind: TimerReassure, Subject: c.ID, Due: t.now.Add(t.s.cfg.ReassureEvery)},
	} {
		if err := t.setTimer(tm); err != nil {
			return err
		}
	}
	return nil
}

// fireRouting acts on the routing timers.
func (t *turn) fireRouting(tm Timer) (err error) {
	defer wrapf(&err, "fire %s timer for %d", tm.Kind, tm.Subject)
	switch tm.Kind {
	case TimerOfferExpiry:
		return t.expireOffer(tm.Subject)
	case TimerQueueAlert, TimerReassure:
		c, err := t.tx.Case(t.ctx, tm.Subject)
		if err != nil || c == nil || (c.State != StateQueued && c.State != StateOffered) {
			return err
		}
		if tm.Kind == TimerReassure {
			if err := t.setTimer(Timer{Kind: TimerReassure, Subject: c.ID, Due: t.now.Add(t.s.cfg.ReassureEvery)}); err != nil {
				return err
			}
			return t.tellRequester(c, say("switchboard-reassure", c.Ref))
		}
		if t.s.cfg.CoordinatorsConversation == "" {
			return nil
		}
		wait := int(t.now.Sub(c.QueuedAt).Minutes())
		return t.send(Matrix, t.s.cfg.CoordinatorsConversation, t.s.cfg.DefaultLanguage, true, true,
			say("switchboard-queue-alert", c.Ref, c.Language, wait))
	}
	return nil
}
