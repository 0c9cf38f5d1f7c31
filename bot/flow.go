package bot

// answer applies the requester's answer to their open intake and acts on the decision.
func (t *turn) answer(ik *Intake, text string) (err error) {
	defer wrapf(&err, "answer intake %d at %s", ik.ID, ik.Step)
	var d Decision
	more := false
	if t.platform == IRC && t.now.Sub(ik.UpdatedAt) < t.s.cfg.IRCPasteWindow {
		d, more = Continuation(*ik, text)
	}
	if !more {
		d = Answer(*ik, text)
	}
	if d.Event == "" { // unclear answer: re-asked, and kept for whoever takes the case
		if err := t.intakeFollowUp(ik, ik.Step, text, false); err != nil {
			return err
		}
		return t.reply(d.Replies...)
	}
	next := d.Intake
	next.UpdatedAt = t.now
	if next.Language != ik.Language && next.Language != "" {
		if err := t.tx.SetLanguage(t.ctx, t.person.ID, next.Language); err != nil {
			return err
		}
		t.person.Language = next.Language
	}
	if d.OpenStaffCase {
		c, err := t.openCase(&next, RouteStaff, StateIntake)
		if err != nil {
			return err
		}
		next.CaseID = c.ID
		if err := t.startPaging(c); err != nil {
			return err
		}
		if err := t.linkCases(c); err != nil {
			return err
		}
	}
	detail := map[string]string{"step": string(ik.Step)}
	if err := t.event(next.CaseID, ik.ID, "requester", d.Event, detail); err != nil {
		return err
	}
	if !d.OpenStaffCase { // a case opened just now has no room yet
		if err := t.intakeFollowUp(&next, ik.Step, text, true); err != nil {
			return err
		}
	}
	if d.Complete {
		return t.complete(&next)
	}
	// The expiry timer is not moved on each answer (a statement per message saved):
	// when it fires, it looks at UpdatedAt and sleeps again if the person was active.
	if err := t.tx.UpdateIntake(t.ctx, &next); err != nil {
		return err
	}
	// Replies are rendered after the language answer is applied, so the summary is
	// already in the language the person chose.
	return t.reply(d.Replies...)
}

// openCase creates a case from the intake's answers so far.
func (t *turn) openCase(ik *Intake, route Route, state CaseState) (*Case, error) {
	c := &Case{
		PersonID: ik.PersonID, IntakeID: ik.ID, Route: route, State: state,
		Conversation: t.conv, Unidentified: ik.Unidentified, CreatedAt: t.now, UpdatedAt: t.now,
	}
	if state == StateQueued {
		c.QueuedAt = t.now
	}
	fillCase(c, ik)
	if err := t.tx.CreateCase(t.ctx, c); err != nil {
		return nil, err
	}
	// What the intake could not read (or an opening it did not use) goes with the case.
	if err := t.tx.AttachAdditions(t.ctx, ik.ID, c.ID); err != nil {
		return nil, err
	}
	return c, t.event(c.ID, ik.ID, "bot", EventCaseOpened, map[string]string{"route": string(route), "state": string(state)})
}

func fillCase(c *Case, ik *Intake) {
	c.Safety, c.Description, c.Parties = ik.Safety, ik.Description, ik.Parties
	c.Project, c.Language = ik.Project, ik.Language
	if c.Parties == nil {
		c.Parties = []string{}
	}
}

// complete ends a confirmed intake: the staff-route case already exists and gets the
// details; an everyday request becomes a queued case.
func (t *turn) complete(ik *Intake) (err error) {
	defer wrapf(&err, "complete intake %d", ik.ID)
	if err := t.tx.UpdateIntake(t.ctx, ik); err != nil {
		return err
	}
	if err := t.tx.DeleteTimer(t.ctx, TimerIntakeExpiry, ik.ID); err != nil {
		return err
	}
	if ik.CaseID != 0 {
		c, err := t.tx.Case(t.ctx, ik.CaseID)
		if err != nil {
			return err
		}
		from := c.State
		fillCase(c, ik)
		c.UpdatedAt, c.Conversation = t.now, t.conv
		if from == StateIntake { // staff may already have moved it on
			c.State = StateStaff
		}
		if err := t.tx.UpdateCase(t.ctx, c, from); err != nil {
			return err
		}
		if err := t.event(c.ID, ik.ID, "bot", EventDetailsCompleted, map[string]string{"state": string(c.State)}); err != nil {
			return err
		}
		if err := t.linkCases(c); err != nil {
			return err
		}
		return t.reply(say("switchboard-case-opened-staff", c.Ref))
	}
	c, err := t.openCase(ik, RouteVolunteer, StateQueued)
	if err != nil {
		return err
	}
	if err := t.linkCases(c); err != nil {
		return err
	}
	return t.enterQueue(c)
}

// staffNotice tells the staff room that a staff-route case exists. It carries the
// reference only: the room may be read on a phone's lock screen.
func (t *turn) staffNotice(c *Case) error {
	if t.s.cfg.StaffConversation == "" {
		t.s.log.Warn().Str("case", c.Ref).Msg("No staff room configured: staff-route case has no notice")
		return nil
	}
	return t.send(t.s.cfg.StaffPlatform, t.s.cfg.StaffConversation, t.s.cfg.DefaultLanguage, true, true,
		say("switchboard-staff-notice", c.Ref))
}

// expireIntake closes an intake nobody answered. A staff-route case opened from it stays
// open with what was gathered: staff still need to see it.
func (t *turn) expireIntake(ik *Intake) (err error) {
	defer wrapf(&err, "expire intake %d", ik.ID)
	ik.Status, ik.UpdatedAt = IntakeExpired, t.now
	if err := t.tx.UpdateIntake(t.ctx, ik); err != nil {
		return err
	}
	if err := t.event(ik.CaseID, ik.ID, "bot", EventIntakeExpired, nil); err != nil {
		return err
	}
	if ik.CaseID != 0 {
		c, err := t.tx.Case(t.ctx, ik.CaseID)
		if err != nil {
			return err
		}
		if c.State == StateIntake {
			from := c.State
			fillCase(c, ik)
			c.State, c.UpdatedAt = StateStaff, t.now
			if err := t.tx.UpdateCase(t.ctx, c, from); err != nil {
				return err
			}
		}
		return t.reply(say("switchboard-intake-expired-staff", c.Ref))
	}
	hours := int(t.s.cfg.IntakeExpiry.Hours())
	return t.reply(say("switchboard-intake-expired", hours))
}
