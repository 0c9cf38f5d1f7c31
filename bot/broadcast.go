package bot

// In broadcast mode a queued case is announced in the volunteers' room, with the same
// content-free line as a direct offer, and the first eligible volunteer to !accept it
// wins (a compare-and-swap on the case's state).

// announce posts a queued case in the volunteers' room.
func (t *turn) announce(c *Case) error {
	if t.s.cfg.VolunteersConversation == "" {
		return nil
	}
	category, _ := t.s.cat.Render(t.s.cfg.DefaultLanguage, "switchboard-category-everyday", c.Project)
	return t.send(Matrix, t.s.cfg.VolunteersConversation, t.s.cfg.DefaultLanguage, false, false,
		say("switchboard-announce", c.Ref, c.Language, category))
}

func (t *turn) acceptBroadcast(v *Volunteer, ref string) (err error) {
	defer wrapf(&err, "volunteer %d accepts %q", v.ID, ref)
	if ref == "" {
		return t.reply(say("switchboard-accept-usage"))
	}
	c, err := t.tx.CaseByRef(t.ctx, ref)
	if err != nil {
		return err
	}
	if c == nil || c.Route != RouteVolunteer || c.State != StateQueued {
		return t.notYours(v, c, ref, true)
	}
	p, err := t.tx.PersonByID(t.ctx, c.PersonID)
	if err != nil {
		return err
	}
	fit, err := t.tx.PickVolunteer(t.ctx, RouteQuery{CaseID: c.ID, Requester: p.ExternalID, Language: c.Language,
		Parties: c.Parties, Now: t.now, Only: v.ID, OffersSince: c.QueuedAt})
	if err != nil {
		return err
	}
	if fit == nil {
		// The same rule as direct offers: duty, language, limit, conflicts.
		return t.reply(say("switchboard-accept-not-eligible", c.Ref))
	}
	o := &Offer{CaseID: c.ID, VolunteerID: v.ID, State: OfferAccepted, OfferedAt: t.now}
	if err := t.tx.CreateOffer(t.ctx, o); err != nil {
		return err
	}
	return t.assign(c, v, o.ID)
}
