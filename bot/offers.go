package bot

import (
	"time"

	"switchboard/commands"
)

// Offers: a queued case offered to one volunteer at a time (or announced to all, in
// broadcast mode), accepted, declined or left to expire.

// OfferState is the outcome of offering a case to a volunteer.
type OfferState string

// Offer is one offer of a case to a volunteer.
type Offer struct {
	ID          int64
	CaseID      int64
	VolunteerID int64
	State       OfferState
	OfferedAt   time.Time
}

const (
	OfferOpen      OfferState = "open"
	OfferAccepted  OfferState = "accepted"
	OfferDeclined  OfferState = "declined"
	OfferExpired   OfferState = "expired"
	OfferWithdrawn OfferState = "withdrawn"
)

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
	if o != nil && c.State == StateOffered && c.VolunteerID == v.ID {
		if ok, err := t.tx.CloseOffer(t.ctx, o.ID, OfferAccepted, t.now); err != nil || ok {
			if err != nil {
				return err
			}
			return t.assign(c, v, o.ID)
		}
	}
	return t.notYours(v, c, ref, false)
}

// notYours answers a volunteer's !accept of a case that is not theirs to take. The
// answer depends only on what the volunteer already knew of the case (an offer they had,
// or a case announced to all), never on where it is now: a volunteer must not learn that
// a case went to the staff route, nor that a staff-route reference exists.
func (t *turn) notYours(v *Volunteer, c *Case, ref string, announced bool) error {
	if c == nil {
		return t.reply(say("switchboard-offer-none", ref))
	}
	if c.Route == RouteVolunteer && c.VolunteerID == v.ID && (c.State == StateAccepted || c.State == StateActive) {
		return t.reply(say("switchboard-accept-already", c.Ref))
	}
	seen := announced && !c.QueuedAt.IsZero()
	if !seen {
		var err error
		if seen, err = t.tx.HadOffer(t.ctx, c.ID, v.ID); err != nil {
			return err
		}
	}
	if seen {
		return t.reply(say("switchboard-accept-lost", c.Ref))
	}
	return t.reply(say("switchboard-offer-none", ref))
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
	if c.Relayed {
		return t.tellRequester(c, say("switchboard-volunteer-accepted-relayed", c.Ref))
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
// exactly one open offer; a requester's reaction in a relayed case is passed on; any
// other reaction in a DM is left alone.
func (t *turn) reaction(in Inbound) (err error) {
	defer wrapf(&err, "reaction to an offer")
	who, err := t.rolesOf(in)
	if err != nil {
		return err
	}
	if who.vol == nil || (in.Text != ReactAccept && in.Text != ReactDecline) {
		_, err := t.relayNonText(in)
		return err
	}
	offers, err := t.tx.OpenOffersOf(t.ctx, who.vol.ID)
	if err != nil || len(offers) != 1 {
		return err
	}
	if !t.trusted() {
		// Element never encrypts a reaction: it cannot show which device sent it.
		return t.reply(say("switchboard-react-unverified"))
	}
	if in.Text == ReactAccept {
		return t.accept(who.vol, "")
	}
	return t.decline(who.vol, "")
}
