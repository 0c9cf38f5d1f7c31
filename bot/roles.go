package bot

import (
	"slices"

	"switchboard/commands"
)

// roles is who the sender of a direct message is, besides a possible requester.
type roles struct {
	volunteer *Volunteer // set for a trainee or active volunteer
	staff     bool
}

// table is the set of commands the sender can reach.
func (r roles) table() commands.Table {
	tables := []commands.Table{commands.RequesterTable}
	if r.volunteer != nil {
		tables = append(tables, commands.VolunteerTable)
	}
	if r.staff {
		tables = append(tables, commands.StaffTable)
	}
	return commands.Merge(tables...)
}

func (s *Service) isStaff(id string) bool       { return slices.Contains(s.cfg.Staff, id) }
func (s *Service) isCoordinator(id string) bool { return slices.Contains(s.cfg.Coordinators, id) }

// rolesOf finds the sender's roles. Volunteers are Matrix users; the direct-message
// room they write from is remembered, since offers go there.
func (t *turn) rolesOf(in Inbound) (roles, error) {
	r := roles{staff: in.Platform == Matrix && t.s.isStaff(in.Sender)}
	if in.Platform != Matrix {
		return r, nil
	}
	v, err := t.tx.Volunteer(t.ctx, in.Sender)
	if err != nil || v == nil || v.Status == VolRemoved {
		return r, err
	}
	if v.DMRoom != in.Conversation {
		v.DMRoom = in.Conversation
		if err := t.tx.SaveVolunteer(t.ctx, v, t.now); err != nil {
			return r, err
		}
	}
	if v.Status == VolActive || v.Status == VolTrainee {
		r.volunteer = v
	}
	return r, nil
}

// help lists the commands of the caller's table.
func (t *turn) help(table commands.Table) error {
	items := make([]Reply, 0, len(table))
	for _, c := range table {
		items = append(items, say(c.HelpKey))
	}
	return t.replyList(say("switchboard-help"), items)
}

// inStaffRoom takes staff commands in the staff room; anything else there is staff
// talking among themselves, which the bot leaves alone.
func (t *turn) inStaffRoom(in Inbound) error {
	if in.Kind != KindText || !t.s.isStaff(in.Sender) {
		return nil
	}
	text := Sanitize(in.Text)
	if len(text) == 0 || text[0] != '!' {
		return nil
	}
	table := commands.Merge(commands.StaffTable, commands.Table{commands.Help})
	inv, ok, err := t.parse(table, text)
	if !ok || err != nil || inv.Cmd == nil {
		return err
	}
	if inv.Cmd == commands.Help {
		return t.help(commands.StaffTable)
	}
	return t.staffCommand(inv)
}
