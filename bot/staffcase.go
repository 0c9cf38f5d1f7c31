package bot

import "strings"

// transferStaff hands a staff-route case to another staff member, who is invited to the
// room and gets the summary on joining; the previous one leaves.
func (t *turn) transferStaff(c *Case, to string) (err error) {
	defer wrapf(&err, "transfer staff case %s", c.Ref)
	next, _, _ := strings.Cut(to, " ")
	if !t.s.isStaff(next) || next == c.StaffID {
		return t.reply(say("switchboard-transfer-staff-usage"))
	}
	old := c.StaffID
	from := c.State
	c.StaffID, c.State, c.UpdatedAt = next, StateAccepted, t.now
	if err := t.tx.UpdateCase(t.ctx, c, from); err != nil {
		return err
	}
	if err := t.tx.AppendEvent(t.ctx, Event{CaseID: c.ID, Actor: t.sender, Subject: next, Kind: EventTransferred,
		Detail: map[string]string{"from": old}, At: t.now}); err != nil {
		return err
	}
	if err := t.reply(say("switchboard-transferred-staff", c.Ref, next)); err != nil {
		return err
	}
	if err := t.openRoomFor(c, []string{next}); err != nil {
		return err
	}
	if old == "" {
		return nil
	}
	if c.Relayed {
		if err := t.tellRequester(c, say("switchboard-transferred-requester-relayed", c.Ref)); err != nil {
			return err
		}
	}
	return t.enforceMembers(c, c.RoomID)
}
