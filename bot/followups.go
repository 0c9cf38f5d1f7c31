package bot

import "strings"

// Follow-ups: everything the requester writes reaches whoever holds their case. Once
// someone works it in its room, it is relayed there (marked as theirs); until then it
// is kept, shown in the summary the next handler gets on joining, and counted in
// !status. Staff are told at once (reference only) that a staff-route case has news.

// worked reports whether someone is working the case in its current room now.
func worked(c *Case) bool { return c.RoomID != "" && c.State == StateActive }

// followUp delivers text the requester wrote, by direct message, after their case
// opened.
func (t *turn) followUp(c *Case, text string) (err error) {
	defer wrapf(&err, "follow up on case %s", c.Ref)
	if relayed(c, t.person) {
		return t.relayIn(c, text)
	}
	if worked(c) {
		if err := t.relayIn(c, text); err != nil {
			return err
		}
		return t.reply(say("switchboard-followup-relayed", c.Ref))
	}
	if err := t.keep(c, text); err != nil {
		return err
	}
	key := "switchboard-added-to-case"
	if c.Route == RouteStaff {
		key = "switchboard-added-to-case-staff"
	}
	return t.reply(say(key, c.Ref))
}

// keep stores text for the case's next handler, and tells staff of a staff-route case
// that there is news, without a word of it.
func (t *turn) keep(c *Case, text string) error {
	if err := t.tx.AddAddition(t.ctx, Addition{CaseID: c.ID, IntakeID: c.IntakeID, Text: text, At: t.now}); err != nil {
		return err
	}
	if err := t.event(c.ID, c.IntakeID, "requester", EventRequesterAdded, nil); err != nil {
		return err
	}
	if c.Route == RouteStaff && t.s.cfg.StaffConversation != "" {
		return t.send(t.s.cfg.StaffPlatform, t.s.cfg.StaffConversation, t.s.cfg.DefaultLanguage, true, true,
			say("switchboard-staff-followup", c.Ref))
	}
	return nil
}

// intakeFollowUp passes on what the requester said during an intake whose staff-route
// case someone already works (staff often join before the intake ends): an answer, or
// words the intake could not read. Before anyone works it, the summary shows them.
func (t *turn) intakeFollowUp(ik *Intake, step Step, text string, understood bool) error {
	if !understood {
		a := Addition{CaseID: ik.CaseID, IntakeID: ik.ID, Text: text, At: t.now}
		if err := t.tx.AddAddition(t.ctx, a); err != nil {
			return err
		}
	}
	if ik.CaseID == 0 {
		return nil
	}
	c, err := t.tx.Case(t.ctx, ik.CaseID)
	if err != nil || c == nil || !worked(c) {
		return err
	}
	label, _ := t.s.cat.Render(t.s.cfg.DefaultLanguage, stepLabels[step])
	plain, md := t.s.cat.Render(t.s.cfg.DefaultLanguage, "switchboard-relay-intake-answer", label)
	return t.enqueue(Outgoing{Platform: Matrix, Conversation: c.RoomID,
		Plain: plain + " " + text, Markdown: md + " " + escape(text)})
}

// stepLabels name each intake question in the summary and in relayed answers.
var stepLabels = map[Step]string{
	StepHarm: "switchboard-label-harm", StepMinor: "switchboard-label-minor", StepIllegal: "switchboard-label-illegal",
	StepOffWiki: "switchboard-label-offwiki", StepDescription: "switchboard-label-description",
	StepParties: "switchboard-label-parties", StepProject: "switchboard-label-project",
	StepLanguage: "switchboard-label-language", StepConfirm: "switchboard-label-confirm",
}

// caseSummary is what the handler of a case reads on joining its room: every answer of
// the intake (from the intake itself while the requester is still answering), which
// safety question was answered yes, and everything added since, in order. It is sent
// to t.conv; the replies it returns follow it in the same message.
func (t *turn) caseSummary(c *Case) ([]Reply, error) {
	safety, description, parties, project, language := c.Safety, c.Description, c.Parties, c.Project, c.Language
	stillAnswering := false
	if c.IntakeID != 0 {
		ik, err := t.tx.Intake(t.ctx, c.IntakeID)
		if err != nil {
			return nil, err
		}
		if ik != nil && ik.Status == IntakeOpen {
			stillAnswering = true
			safety, description, parties, project, language = ik.Safety, ik.Description, ik.Parties, ik.Project, ik.Language
		}
	}
	lang := t.s.cfg.DefaultLanguage
	rs := []Reply{say("switchboard-room-summary", c.Ref, orDash(project), orDash(strings.Join(parties, ", ")),
		orDash(language), orDash(description), t.safetyLine(lang, safety))}
	additions, err := t.tx.Additions(t.ctx, c.ID)
	if err != nil {
		return nil, err
	}
	if len(additions) > 0 {
		items := make([]Reply, len(additions))
		for i, a := range additions {
			items[i] = say("switchboard-room-addition-line", a.At.UTC().Format("2006-01-02 15:04 UTC"), a.Text)
		}
		// The summary's message so far, then the list: replyList joins them into one.
		if err := t.reply(rs...); err != nil {
			return nil, err
		}
		rs = nil
		if err := t.replyList(say("switchboard-room-additions", len(additions)), items); err != nil {
			return nil, err
		}
	}
	if stillAnswering {
		rs = append(rs, say("switchboard-room-still-answering"))
	}
	return rs, nil
}

// safetyLine renders the four safety answers, the yes ones first (in capitals: the
// line is a parameter, so it cannot carry emphasis of its own).
func (t *turn) safetyLine(lang string, s Safety) string {
	var yes, rest []string
	for _, q := range []struct {
		step Step
		v    *bool
	}{{StepHarm, s.Harm}, {StepMinor, s.Minor}, {StepIllegal, s.Illegal}, {StepOffWiki, s.OffWiki}} {
		label, _ := t.s.cat.Render(lang, stepLabels[q.step])
		switch {
		case q.v == nil:
			v, _ := t.s.cat.Render(lang, "switchboard-answer-none")
			rest = append(rest, label+": "+v)
		case *q.v:
			v, _ := t.s.cat.Render(lang, "switchboard-answer-yes")
			yes = append(yes, label+": "+v)
		default:
			v, _ := t.s.cat.Render(lang, "switchboard-answer-no")
			rest = append(rest, label+": "+v)
		}
	}
	return strings.Join(append(yes, rest...), "; ")
}

// inOtherRoom handles the requester writing in a room of their case where nobody is
// working it now: a room the case left (after an escalation), or its room while it
// waits for its next handler. Their words are kept or passed on like a direct message,
// and they are told, in the room, where to write.
func (t *turn) inOtherRoom(c *Case, text string) (err error) {
	defer wrapf(&err, "requester in a room of case %s", c.Ref)
	if !c.State.Open() {
		return t.reply(say("switchboard-room-closed", c.Ref))
	}
	p, err := t.tx.PersonByID(t.ctx, c.PersonID)
	if err != nil {
		return err
	}
	t.person = p
	if worked(c) { // the case is worked in another room: pass it on there
		if err := t.relayIn(c, text); err != nil {
			return err
		}
		return t.reply(say("switchboard-room-moved", c.Ref))
	}
	if err := t.keep(c, text); err != nil {
		return err
	}
	return t.reply(say("switchboard-room-kept", c.Ref))
}

// additionCount counts what the requester added to the case, for !status.
func (t *turn) additionCount(c *Case) (int, error) {
	as, err := t.tx.Additions(t.ctx, c.ID)
	return len(as), err
}
