package bot

import (
	"strconv"
	"time"

	"switchboard/commands"
)

// chainAt is the escalation chain at t: the configured on-call list rotated so that
// whoever is primary in the current rotation period comes first.
func (s *Service) chainAt(t time.Time) []string {
	l := s.live()
	n := len(l.OnCall)
	if n == 0 {
		return nil
	}
	idx := 0
	if l.RotationPeriod > 0 && t.After(l.RotationStart) {
		idx = int(t.Sub(l.RotationStart)/l.RotationPeriod) % n
	}
	return append(append([]string{}, l.OnCall[idx:]...), l.OnCall[:idx]...)
}

// startPaging tells staff that a staff-route case exists and pages the primary on-call
// person at once. Without an on-call chain, the staff room gets a notice only.
func (t *turn) startPaging(c *Case) (err error) {
	defer wrapf(&err, "start paging for case %s", c.Ref)
	if len(t.s.live().OnCall) == 0 {
		return t.staffNotice(c)
	}
	c.PageRound, c.PageStep = 1, 0
	if err := t.tx.UpdateCase(t.ctx, c, c.State); err != nil {
		return err
	}
	return t.page(c)
}

// page pages the person at the case's place in the chain and waits AckTimeout.
func (t *turn) page(c *Case) error {
	chain := t.s.chainAt(t.now)
	step := c.PageStep % len(chain)
	// The round ends when the last person in the chain has had their time: a token
	// to acknowledge from the phone is good until then.
	roundEnd := t.now.Add(time.Duration(len(chain)-step) * t.s.live().AckTimeout)
	if err := t.pageOne(c, chain[step], step+1, roundEnd); err != nil {
		return err
	}
	return t.setTimer(Timer{Kind: TimerPageAck, Subject: c.ID, Due: t.now.Add(t.s.live().AckTimeout)})
}

// pageEveryone pages the whole chain at once and waits RepageEvery: what is left
// once the rounds one by one found nobody, so that a safety case is never dropped.
func (t *turn) pageEveryone(c *Case) error {
	l := t.s.live()
	until := t.now.Add(l.RepageEvery)
	for i, who := range t.s.chainAt(t.now) {
		if err := t.pageOne(c, who, i+1, until); err != nil {
			return err
		}
	}
	return t.setTimer(Timer{Kind: TimerPageAck, Subject: c.ID, Due: until})
}

// pageOne pages one person: a mention in the staff room (so Matrix notifies their
// phone) and every channel of theirs through the pager. It says the reference and
// where to act, nothing else.
func (t *turn) pageOne(c *Case, who string, step int, ackBy time.Time) error {
	if t.s.cfg.StaffConversation != "" {
		plain, md := t.s.cat.Render(t.s.cfg.DefaultLanguage, "switchboard-page-mention", who, c.Ref)
		if err := t.enqueue(Outgoing{Platform: Matrix, Conversation: t.s.cfg.StaffConversation, Plain: plain,
			Markdown: md, ContentFree: true, Mentions: []string{who}}); err != nil {
			return err
		}
	}
	if t.s.live().Pager {
		if err := t.enqueue(Outgoing{Platform: Pager, Conversation: who, Action: ActionPage,
			Payload: ActionPayload{CaseID: c.ID, Ref: c.Ref, Round: c.PageRound, AckBy: ackBy.UnixMilli()}}); err != nil {
			return err
		}
	}
	return t.tx.AppendEvent(t.ctx, Event{CaseID: c.ID, Actor: "bot", Subject: who, Kind: EventPaged,
		Detail: map[string]string{"round": itoa(c.PageRound), "step": itoa(step)}, At: t.now})
}

// pageNext moves down the chain when nobody acknowledged in time; after the last
// person it starts again from the top, up to MaxRounds rounds. Then staff are told,
// and the whole chain is paged together every RepageEvery until someone acknowledges
// or the case ends (RepageEvery 0: it stops there, as before the simulator showed
// safety cases left unacknowledged for good).
func (t *turn) pageNext(caseID int64) (err error) {
	defer wrapf(&err, "page next for case %d", caseID)
	c, err := t.tx.Case(t.ctx, caseID)
	if err != nil || c == nil || c.StaffID != "" || !c.State.Open() || c.Route != RouteStaff {
		return err
	}
	l := t.s.live()
	if len(l.OnCall) == 0 {
		return nil // the chain was emptied by a reload; the staff room already knows
	}
	if c.PageRound > l.MaxRounds {
		c.PageRound++
		if err := t.tx.UpdateCase(t.ctx, c, c.State); err != nil {
			return err
		}
		return t.pageEveryone(c)
	}
	c.PageStep++
	if c.PageStep >= len(l.OnCall) {
		c.PageRound, c.PageStep = c.PageRound+1, 0
	}
	if c.PageRound > l.MaxRounds {
		if err := t.tx.AppendEvent(t.ctx, Event{CaseID: c.ID, Actor: "bot", Kind: EventPagingExhausted, At: t.now}); err != nil {
			return err
		}
		if l.RepageEvery <= 0 {
			return t.send(Matrix, t.s.cfg.StaffConversation, t.s.cfg.DefaultLanguage, false, true,
				say("switchboard-page-exhausted", c.Ref, l.MaxRounds))
		}
		if err := t.send(Matrix, t.s.cfg.StaffConversation, t.s.cfg.DefaultLanguage, false, true,
			say("switchboard-page-exhausted-repage", c.Ref, l.MaxRounds, int(l.RepageEvery.Minutes()))); err != nil {
			return err
		}
		if err := t.tx.UpdateCase(t.ctx, c, c.State); err != nil {
			return err
		}
		return t.pageEveryone(c)
	}
	if err := t.tx.UpdateCase(t.ctx, c, c.State); err != nil {
		return err
	}
	return t.page(c)
}

// ack is a staff member taking a staff-route case: paging stops and they get an
// encrypted room with the requester.
func (t *turn) cmdAck(a commands.Args) error { return t.ack(a.String("ref")) }

// ack takes the case as t.sender, from the staff room, a DM or their phone.
func (t *turn) ack(ref string) error {
	c, err := t.tx.CaseByRef(t.ctx, ref)
	if err != nil {
		return err
	}
	switch {
	case c == nil || c.Route != RouteStaff || !c.State.Open():
		return t.reply(say("switchboard-ack-none", ref))
	case c.StaffID != "":
		return t.reply(say("switchboard-ack-already", c.Ref, c.StaffID))
	}
	from := c.State
	// Accepted even while the requester is still answering: staff can start at once,
	// and the rest of the answers still reach the case.
	c.StaffID, c.AckedAt, c.UpdatedAt, c.State = t.sender, t.now, t.now, StateAccepted
	c.RoomID = "" // a staff room of its own, never the room of an escalating volunteer
	if err := t.tx.UpdateCase(t.ctx, c, from); err != nil {
		return err
	}
	if err := t.tx.DeleteTimer(t.ctx, TimerPageAck, c.ID); err != nil {
		return err
	}
	if err := t.tx.AppendEvent(t.ctx, Event{CaseID: c.ID, Actor: t.sender, Subject: t.sender, Kind: EventAcked, At: t.now}); err != nil {
		return err
	}
	if err := t.followUpPages(c, ActionPageAck); err != nil {
		return err
	}
	if err := t.openRoomFor(c, []string{t.sender}); err != nil {
		return err
	}
	if c.Relayed {
		// In a shared room the invitation says it; here nothing else would.
		if err := t.tellRequester(c, say("switchboard-staff-took-relayed", c.Ref)); err != nil {
			return err
		}
	}
	return t.reply(say("switchboard-ack-done", c.Ref, t.sender))
}

// followUpPages tells the on-call tools of everyone paged about the case that it was
// acknowledged or closed (ActionPageAck, ActionPageResolve).
func (t *turn) followUpPages(c *Case, action Action) (err error) {
	defer wrapf(&err, "follow up pages of case %s", c.Ref)
	if !t.s.live().Pager || c.Route != RouteStaff {
		return nil
	}
	paged, err := t.tx.PagedStaff(t.ctx, c.ID)
	if err != nil {
		return err
	}
	for _, who := range paged {
		if err := t.enqueue(Outgoing{Platform: Pager, Conversation: who, Action: action,
			Payload: ActionPayload{CaseID: c.ID, Ref: c.Ref}}); err != nil {
			return err
		}
	}
	return nil
}

func itoa(n int) string { return strconv.Itoa(n) }
