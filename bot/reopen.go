package bot

import (
	"time"

	"switchboard/commands"
)

// cmdReopen is staff putting a closed or withdrawn case back on its route: an everyday
// case is queued for a volunteer again, a staff-route case pages on-call again. It gets
// a new room, so nobody who worked it before reads what comes next. A case whose content
// was erased has nothing left to work on, and a requester has at most one open case, so
// those are refused with a line that says why.
func (t *turn) cmdReopen(a commands.Args) error {
	ref := a.String("ref")
	c, err := t.tx.CaseByRef(t.ctx, ref)
	if err != nil {
		return err
	}
	switch {
	case c == nil:
		return t.reply(say("switchboard-reopen-none", ref))
	case c.State.Open():
		return t.reply(say("switchboard-reopen-open", c.Ref))
	case !c.PurgedAt.IsZero():
		return t.reply(say("switchboard-reopen-purged", c.Ref))
	}
	busy, err := t.requesterBusy(c)
	if err != nil {
		return err
	}
	if busy {
		return t.reply(say("switchboard-reopen-busy", c.Ref))
	}
	from := c.State
	c.VolunteerID, c.MentorID, c.StaffID, c.AckedAt = 0, 0, "", time.Time{}
	c.RoomID, c.RoomAlias, c.ClosedAt, c.CloseReason, c.UpdatedAt = "", "", time.Time{}, "", t.now
	if c.Route == RouteStaff {
		c.State = StateStaff
	} else {
		c.State, c.QueuedAt = StateQueued, t.now
	}
	if err := t.tx.UpdateCase(t.ctx, c, from); err != nil {
		return err
	}
	if err := t.tx.AppendEvent(t.ctx, Event{CaseID: c.ID, Actor: t.sender, Kind: EventReopened,
		Detail: map[string]string{"from": string(from)}, At: t.now}); err != nil {
		return err
	}
	if err := t.reply(say("switchboard-reopen-done", c.Ref)); err != nil {
		return err
	}
	if err := t.tellRequester(c, say("switchboard-reopened-requester", c.Ref)); err != nil {
		return err
	}
	if c.Route == RouteStaff {
		return t.startPaging(c)
	}
	if err := t.armQueueTimers(c); err != nil {
		return err
	}
	return t.route(c)
}

// requesterBusy reports whether the case's requester has another case open, or an
// intake under way that would become one (the case's own intake, still being answered
// after a staff-route case closed, is no obstacle).
func (t *turn) requesterBusy(c *Case) (bool, error) {
	if open, err := t.tx.OpenCase(t.ctx, c.PersonID); err != nil || open != nil {
		return open != nil, err
	}
	ik, err := t.tx.OpenIntake(t.ctx, c.PersonID)
	return ik != nil && ik.CaseID != c.ID, err
}
