package bot

import (
	"strings"

	"switchboard/commands"
)

// inStaffCaseRoom handles a staff-route case's room: staff (any staff member: staff see
// everything) may close, note and transfer it to another staff member.
func (t *turn) inStaffCaseRoom(c *Case, in Inbound) error {
	text := Sanitize(in.Text)
	staff := t.s.isStaff(in.Sender)
	if !strings.HasPrefix(text, commands.Prefix) {
		if !staff || !c.State.Open() {
			return nil
		}
		if c.FirstReplyAt.IsZero() {
			c.FirstReplyAt = t.now
			if err := t.tx.UpdateCase(t.ctx, c, c.State); err != nil {
				return err
			}
		}
		return t.relayOut(c, nameOr(in), text)
	}
	inv, ok, err := t.parse(commands.CaseRoomTable, text)
	if !ok || err != nil || inv.Cmd == nil {
		return err
	}
	if inv.Cmd == commands.Help {
		return t.help(commands.CaseRoomTable)
	}
	if !staff || !c.State.Open() {
		return t.reply(say("switchboard-case-not-yours"))
	}
	switch inv.Cmd {
	case commands.Note:
		if err := t.tx.AddNote(t.ctx, c.ID, in.Sender, inv.Rest, t.now); err != nil {
			return err
		}
		if err := t.tx.AppendEvent(t.ctx, Event{CaseID: c.ID, Actor: in.Sender, Kind: "note_added", At: t.now}); err != nil {
			return err
		}
		return t.reply(say("switchboard-note-kept"))
	case commands.Close:
		return t.closeCase(c, inv)
	case commands.Transfer:
		return t.transferStaff(c, inv.Args)
	}
	return t.reply(say("switchboard-escalate-staff"))
}

// transferStaff hands a staff-route case to another staff member, who is invited to the
// room and gets the summary on joining; the previous one leaves.
func (t *turn) transferStaff(c *Case, args []string) error {
	if len(args) == 0 || !t.s.isStaff(args[0]) || args[0] == c.StaffID {
		return t.reply(say("switchboard-transfer-staff-usage"))
	}
	old, next := c.StaffID, args[0]
	from := c.State
	c.StaffID, c.State, c.UpdatedAt = next, StateAccepted, t.now
	if err := t.tx.UpdateCase(t.ctx, c, from); err != nil {
		return err
	}
	if err := t.tx.AppendEvent(t.ctx, Event{CaseID: c.ID, Actor: t.sender, Subject: next, Kind: "transferred",
		Detail: map[string]string{"from": old}, At: t.now}); err != nil {
		return err
	}
	if err := t.reply(say("switchboard-transferred-staff", c.Ref, next)); err != nil {
		return err
	}
	if err := t.openRoomFor(c, []string{next}); err != nil {
		return err
	}
	if old == "" || c.RoomID == "" {
		return nil
	}
	return t.enqueue(Outgoing{Platform: Matrix, Conversation: c.RoomID, Action: ActionRemove,
		Payload: ActionPayload{CaseID: c.ID, Room: c.RoomID, Users: []string{old}}})
}
