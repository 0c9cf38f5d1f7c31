package bot

import (
	"slices"
	"strings"

	"switchboard/commands"
)

func (s *Service) isStaff(id string) bool       { return slices.Contains(s.live().Staff, id) }
func (s *Service) isCoordinator(id string) bool { return slices.Contains(s.live().Coordinators, id) }

// rolesOf finds the roles of the sender of a direct message. Volunteers are Matrix
// users; the direct-message room they write from is remembered, since offers go there.
func (t *turn) rolesOf(in Inbound) (caller, error) {
	who := caller{Caller: commands.Caller{Roles: commands.Anyone | commands.Requester, Place: commands.DM}}
	if in.Platform != Matrix {
		return who, nil
	}
	if t.s.isStaff(in.Sender) {
		who.Roles |= commands.Staff
	}
	if t.s.isCoordinator(in.Sender) {
		who.Roles |= commands.Coordinator
	}
	v, err := t.tx.Volunteer(t.ctx, in.Sender)
	if err != nil || v == nil || v.Status == VolRemoved {
		return who, err
	}
	if v.DMRoom != in.Conversation {
		v.DMRoom = in.Conversation
		if err := t.tx.SaveVolunteer(t.ctx, v, t.now); err != nil {
			return who, err
		}
	}
	if v.Status == VolActive || v.Status == VolTrainee {
		who.Roles |= commands.Volunteer
		who.vol = v
	}
	return who, nil
}

// A room the bot belongs to takes commands only from the people it is for; anything
// else said there is their own talk, which the bot leaves alone.

// inStaffRoom takes staff commands in the staff room.
func (t *turn) inStaffRoom(in Inbound) error {
	if in.Kind != KindText || !t.s.isStaff(in.Sender) {
		return nil
	}
	who := caller{Caller: commands.Caller{Roles: commands.Anyone | commands.Staff, Place: commands.StaffRoom}}
	_, err := t.dispatch(who, Sanitize(in.Text))
	return err
}

// inCoordinatorsRoom takes !queue, !coverage and !stats from coordinators and staff.
func (t *turn) inCoordinatorsRoom(in Inbound) error {
	if in.Kind != KindText {
		return nil
	}
	who := caller{Caller: commands.Caller{Roles: commands.Anyone, Place: commands.CoordinatorsRoom}}
	if t.s.isCoordinator(in.Sender) {
		who.Roles |= commands.Coordinator
	}
	if t.s.isStaff(in.Sender) {
		who.Roles |= commands.Staff
	}
	if who.Roles == commands.Anyone {
		return nil
	}
	_, err := t.dispatch(who, Sanitize(in.Text))
	return err
}

// inVolunteersRoom takes !accept from volunteers in the broadcast room.
func (t *turn) inVolunteersRoom(in Inbound) error {
	text := Sanitize(in.Text)
	if in.Kind != KindText || !strings.HasPrefix(text, commands.Prefix) {
		return nil
	}
	v, err := t.tx.Volunteer(t.ctx, in.Sender)
	if err != nil || v == nil || (v.Status != VolActive && v.Status != VolTrainee) {
		return err
	}
	who := caller{Caller: commands.Caller{Roles: commands.Anyone | commands.Volunteer, Place: commands.VolunteersRoom}, vol: v}
	_, err = t.dispatch(who, text)
	return err
}
