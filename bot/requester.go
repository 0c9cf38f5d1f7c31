package bot

import (
	"switchboard/commands"
)

// The requester's commands. Each one answers, whatever the state.

func (t *turn) cmdStatus(commands.Args) error { return t.status() }
func (t *turn) cmdCancel(commands.Args) error { return t.cancel() }
func (t *turn) cmdAdd(a commands.Args) error  { return t.add(a.String("text")) }

func (t *turn) status() (err error) {
	ik, err := t.tx.OpenIntake(t.ctx, t.person.ID)
	if err != nil {
		return err
	}
	if ik != nil {
		return t.reply(say("switchboard-status-intake"), Question(*ik))
	}
	c, err := t.tx.OpenCase(t.ctx, t.person.ID)
	if err != nil {
		return err
	}
	if c == nil {
		waiting, err := t.tx.Waiting(t.ctx, t.platform, t.person.ExternalID)
		if err != nil {
			return err
		}
		if waiting {
			return t.reply(say("switchboard-busy-still", t.urgentWord()))
		}
		return t.reply(say("switchboard-status-none"))
	}
	var state Reply
	switch {
	case c.Route == RouteStaff:
		state = say("switchboard-status-staff", c.Ref)
	case c.State == StateAccepted || c.State == StateActive:
		state = say("switchboard-status-with-volunteer", c.Ref)
		if t.platform == IRC || c.Relayed {
			state = say("switchboard-status-relayed", c.Ref)
		}
	default:
		state = say("switchboard-status-queued", c.Ref)
	}
	n, err := t.additionCount(c)
	if err != nil {
		return err
	}
	if n == 0 {
		return t.reply(state)
	}
	return t.reply(state, say("switchboard-status-additions", n))
}

func (t *turn) cancel() (err error) {
	ik, err := t.tx.OpenIntake(t.ctx, t.person.ID)
	if err != nil {
		return err
	}
	caseID := int64(0)
	if ik != nil {
		ik.Status, ik.UpdatedAt = IntakeCancelled, t.now
		if err := t.tx.UpdateIntake(t.ctx, ik); err != nil {
			return err
		}
		if err := t.tx.DeleteTimer(t.ctx, TimerIntakeExpiry, ik.ID); err != nil {
			return err
		}
		if err := t.event(ik.CaseID, ik.ID, "requester", EventIntakeCancelled, nil); err != nil {
			return err
		}
		caseID = ik.CaseID
	}
	var c *Case
	if caseID != 0 {
		c, err = t.tx.Case(t.ctx, caseID)
	} else {
		c, err = t.tx.OpenCase(t.ctx, t.person.ID)
	}
	if err != nil {
		return err
	}
	if c != nil && c.State.Open() {
		from := c.State
		c.State, c.UpdatedAt = StateWithdrawn, t.now
		if err := t.tx.UpdateCase(t.ctx, c, from); err != nil {
			return err
		}
		if err := t.event(c.ID, c.IntakeID, "requester", EventCaseWithdrawn, map[string]string{"from": string(from)}); err != nil {
			return err
		}
		// Paging stops with the case; the on-call tool's incident must stop too.
		if err := t.followUpPages(c, ActionPageResolve); err != nil {
			return err
		}
		if err := t.withdrawn(c); err != nil {
			return err
		}
	}
	if ik == nil && c == nil {
		return t.reply(say("switchboard-cancel-none"))
	}
	return t.reply(say("switchboard-cancel-done"))
}

func (t *turn) add(text string) (err error) {
	ik, err := t.tx.OpenIntake(t.ctx, t.person.ID)
	if err != nil {
		return err
	}
	if ik != nil && ik.CaseID == 0 {
		// Not a case yet: the addition joins the description the summary will show.
		if ik.Description != "" {
			text = ik.Description + "\n\n" + text
		}
		ik.Description, ik.UpdatedAt = truncate(text, maxDescription), t.now
		if ik.Step == StepDescription {
			ik.Step = nextStep(*ik)
		}
		if err := t.tx.UpdateIntake(t.ctx, ik); err != nil {
			return err
		}
		if err := t.event(0, ik.ID, "requester", EventRequesterAdded, nil); err != nil {
			return err
		}
		return t.reply(say("switchboard-add-done"), Question(*ik))
	}
	var c *Case
	if ik != nil {
		c, err = t.tx.Case(t.ctx, ik.CaseID)
	} else {
		c, err = t.tx.OpenCase(t.ctx, t.person.ID)
	}
	if err != nil {
		return err
	}
	if c == nil {
		return t.reply(say("switchboard-add-none"))
	}
	return t.followUp(c, text)
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

// withdrawn ends what a withdrawn case still had going: an open offer, and whoever was
// working it in its room (who is told, without a word of why).
func (t *turn) withdrawn(c *Case) error {
	if o, err := t.tx.OpenOffer(t.ctx, c.ID); err != nil {
		return err
	} else if o != nil {
		if _, err := t.tx.CloseOffer(t.ctx, o.ID, OfferWithdrawn, t.now); err != nil {
			return err
		}
		if err := t.tx.DeleteTimer(t.ctx, TimerOfferExpiry, o.ID); err != nil {
			return err
		}
	}
	if c.RoomID == "" {
		return nil
	}
	if err := t.send(Matrix, c.RoomID, t.s.cfg.DefaultLanguage, true, true, say("switchboard-withdrawn-room", c.Ref)); err != nil {
		return err
	}
	return t.enforceMembers(c, c.RoomID)
}
