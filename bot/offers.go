package bot

import "switchboard/commands"

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
		Parties: c.Parties, Now: t.now, OffersSince: c.QueuedAt})
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

// offerFor finds the volunteer's open offer: the one named, or the only one.
func (t *turn) offerFor(v *Volunteer, ref string) (*Case, *Offer, error) {
	if ref != "" {
		c, err := t.tx.CaseByRef(t.ctx, ref)
		if err != nil || c == nil {
			return nil, nil, err
		}
		o, err := t.tx.OpenOffer(t.ctx, c.ID)
		if err != nil || o == nil || o.VolunteerID != v.ID {
			return c, nil, err
		}
		return c, o, nil
	}
	offers, err := t.tx.OpenOffersOf(t.ctx, v.ID)
	if err != nil || len(offers) != 1 {
		return nil, nil, err
	}
	c, err := t.tx.Case(t.ctx, offers[0].CaseID)
	return c, &offers[0], err
}

func (t *turn) cmdAccept(a commands.Args) error {
	if t.caller.Place == commands.VolunteersRoom {
		return t.acceptBroadcast(t.caller.vol, a.String("ref"))
	}
	return t.accept(t.caller.vol, a.String("ref"))
}

func (t *turn) cmdDecline(a commands.Args) error { return t.decline(t.caller.vol, a.String("ref")) }

// accept gives the case to the volunteer. The case moves with a compare-and-swap on
// its state, so of two volunteers accepting at once exactly one wins.
func (t *turn) accept(v *Volunteer, ref string) (err error) {
	defer wrapf(&err, "volunteer %d accepts %q", v.ID, ref)
	if t.s.cfg.Broadcast {
		return t.acceptBroadcast(v, ref)
	}
	c, o, err := t.offerFor(v, ref)
	if err != nil {
		return err
	}
	switch {
	case c != nil && c.Route == RouteVolunteer && c.VolunteerID == v.ID && (c.State == StateAccepted || c.State == StateActive):
		return t.reply(say("switchboard-accept-already", c.Ref))
	case o == nil && c != nil && c.Route == RouteVolunteer && c.State.Open():
		return t.reply(say("switchboard-accept-lost", c.Ref))
	case o == nil:
		// Also what a volunteer hears about a staff-route reference: nothing to learn.
		return t.reply(say("switchboard-offer-none", ref))
	}
	if ok, err := t.tx.CloseOffer(t.ctx, o.ID, OfferAccepted, t.now); err != nil || !ok {
		if err != nil {
			return err
		}
		return t.reply(say("switchboard-accept-lost", c.Ref))
	}
	from := c.State
	if from != StateOffered || c.VolunteerID != v.ID {
		return t.reply(say("switchboard-accept-lost", c.Ref))
	}
	return t.assign(c, v, o.ID)
}

// assign moves an offered (direct) or queued (broadcast) case to the volunteer who
// accepted it, and sets up its room.
func (t *turn) assign(c *Case, v *Volunteer, offerID int64) (err error) {
	defer wrapf(&err, "assign case %s to volunteer %d", c.Ref, v.ID)
	from := c.State
	c.State, c.VolunteerID, c.AcceptedAt, c.UpdatedAt = StateAccepted, v.ID, t.now, t.now
	c.MentorID = 0
	if v.Status == VolTrainee {
		c.MentorID = v.MentorID
	}
	if err := t.tx.UpdateCase(t.ctx, c, from); err != nil {
		return err
	}
	for _, tm := range []Timer{{Kind: TimerOfferExpiry, Subject: offerID}, {Kind: TimerQueueAlert, Subject: c.ID}, {Kind: TimerReassure, Subject: c.ID}} {
		if err := t.tx.DeleteTimer(t.ctx, tm.Kind, tm.Subject); err != nil {
			return err
		}
	}
	if err := t.tx.AppendEvent(t.ctx, Event{CaseID: c.ID, Actor: v.UserID, Subject: v.UserID, Kind: EventAccepted, At: t.now}); err != nil {
		return err
	}
	if err := t.openCaseRoom(c, v); err != nil {
		return err
	}
	if err := t.reply(say("switchboard-accept-won", c.Ref)); err != nil {
		return err
	}
	return t.tellRequester(c, say("switchboard-volunteer-accepted", c.Ref))
}

func (t *turn) decline(v *Volunteer, ref string) (err error) {
	defer wrapf(&err, "volunteer %d declines %q", v.ID, ref)
	c, o, err := t.offerFor(v, ref)
	if err != nil {
		return err
	}
	if o == nil {
		return t.reply(say("switchboard-offer-none", ref))
	}
	if err := t.release(c, o, OfferDeclined, v.UserID); err != nil {
		return err
	}
	return t.reply(say("switchboard-decline-done", c.Ref))
}

// release ends an open offer without acceptance and puts the case back in the queue,
// then offers it to the next volunteer.
func (t *turn) release(c *Case, o *Offer, state OfferState, actor string) (err error) {
	defer wrapf(&err, "release offer %d of case %s as %s", o.ID, c.Ref, state)
	if ok, err := t.tx.CloseOffer(t.ctx, o.ID, state, t.now); err != nil || !ok {
		return err
	}
	if err := t.tx.DeleteTimer(t.ctx, TimerOfferExpiry, o.ID); err != nil {
		return err
	}
	if c.State != StateOffered {
		return nil
	}
	c.State, c.VolunteerID, c.UpdatedAt = StateQueued, 0, t.now
	if err := t.tx.UpdateCase(t.ctx, c, StateOffered); err != nil {
		return err
	}
	if err := t.tx.AppendEvent(t.ctx, Event{CaseID: c.ID, Actor: actor, Kind: offerEvent(state), At: t.now}); err != nil {
		return err
	}
	return t.route(c)
}

// tellRequester writes to the requester where their request came from.
func (t *turn) tellRequester(c *Case, r Reply) (err error) {
	defer wrapf(&err, "tell the requester of case %s", c.Ref)
	p, err := t.tx.PersonByID(t.ctx, c.PersonID)
	if err != nil {
		return err
	}
	lang := p.Language
	if lang == "" {
		lang = t.s.cfg.DefaultLanguage
	}
	return t.send(p.Platform, c.Conversation, lang, false, false, r)
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

func (t *turn) expireOffer(offerID int64) (err error) {
	defer wrapf(&err, "expire offer %d", offerID)
	o, err := t.offerByID(offerID)
	if err != nil || o == nil {
		return err
	}
	c, err := t.tx.Case(t.ctx, o.CaseID)
	if err != nil || c == nil {
		return err
	}
	v, err := t.tx.VolunteerByID(t.ctx, o.VolunteerID)
	if err != nil {
		return err
	}
	if err := t.release(c, o, OfferExpired, "bot"); err != nil {
		return err
	}
	if v != nil && v.DMRoom != "" {
		return t.send(Matrix, v.DMRoom, t.s.cfg.DefaultLanguage, false, false, say("switchboard-offer-expired", c.Ref))
	}
	return nil
}

// offerByID finds an open offer among the case's; nil when it was answered meanwhile.
func (t *turn) offerByID(offerID int64) (*Offer, error) {
	o, err := t.tx.OfferByID(t.ctx, offerID)
	if err != nil || o == nil || o.State != OfferOpen {
		return nil, err
	}
	return o, nil
}

// reaction takes 👍 or 👎 on an offer as !accept or !decline, when the volunteer has
// exactly one open offer; any other reaction in a DM is left alone.
func (t *turn) reaction(in Inbound) (err error) {
	defer wrapf(&err, "reaction to an offer")
	who, err := t.rolesOf(in)
	if err != nil || who.vol == nil {
		return err
	}
	offers, err := t.tx.OpenOffersOf(t.ctx, who.vol.ID)
	if err != nil || len(offers) != 1 {
		return err
	}
	if in.Text == ReactAccept {
		return t.accept(who.vol, "")
	}
	return t.decline(who.vol, "")
}
