package bot

import (
	"strings"

	"switchboard/commands"
)

// staffCommand runs !volunteer <add|confirm|mentor|promote|suspend|remove|list|show>.
// Every change is written to the audit log with the staff member as actor.
func (t *turn) staffCommand(inv commands.Invocation) error {
	switch inv.Cmd {
	case commands.Ack:
		return t.ack(inv)
	case commands.VolunteerCmd:
	default:
		return t.staffOther(inv)
	}
	sub, args := strings.ToLower(inv.Args[0]), inv.Args[1:]
	switch sub {
	case "list":
		return t.rosterList()
	case "add", "confirm", "promote", "suspend", "remove", "show", "mentor":
	default:
		return t.reply(say("switchboard-volunteer-usage"))
	}
	if len(args) == 0 || !isMatrixID(args[0]) || (sub == "mentor" && (len(args) < 2 || !isMatrixID(args[1]))) {
		return t.reply(say("switchboard-volunteer-usage"))
	}
	userID := args[0]
	v, err := t.tx.Volunteer(t.ctx, userID)
	if err != nil {
		return err
	}
	if sub == "add" {
		return t.rosterAdd(v, userID, args[1:])
	}
	if v == nil || v.Status == VolRemoved {
		return t.reply(say("switchboard-volunteer-unknown", userID))
	}
	switch sub {
	case "show":
		return t.rosterShow(v)
	case "confirm":
		return t.rosterMove(v, VolApplicant, VolTrainee, "volunteer_confirmed", "")
	case "promote":
		return t.rosterMove(v, VolTrainee, VolActive, "volunteer_promoted", "")
	case "suspend":
		reason := strings.Join(args[1:], " ")
		return t.rosterMove(v, "", VolSuspended, "volunteer_suspended", reason)
	case "remove":
		return t.rosterMove(v, "", VolRemoved, "volunteer_removed", "")
	}
	return t.rosterMentor(v, args[1])
}

func isMatrixID(s string) bool {
	return strings.HasPrefix(s, "@") && strings.Contains(s, ":") && !strings.ContainsAny(s, " \t\n")
}

func (t *turn) rosterAdd(v *Volunteer, userID string, rest []string) error {
	if v != nil && v.Status != VolRemoved {
		return t.reply(say("switchboard-volunteer-exists", userID, string(v.Status)))
	}
	wiki := ""
	if len(rest) > 0 {
		name, ok := NormalizeUsername(strings.Join(rest, " "))
		if !ok {
			return t.reply(say("switchboard-parties-invalid"))
		}
		wiki = name
	}
	if v == nil {
		v = &Volunteer{UserID: userID, CaseLimit: t.s.cfg.DefaultCaseLimit}
	}
	v.Status, v.WikiUsername = VolApplicant, wiki
	if err := t.tx.SaveVolunteer(t.ctx, v, t.now); err != nil {
		return err
	}
	if err := t.rosterEvent(v, "volunteer_added", nil); err != nil {
		return err
	}
	return t.reply(say("switchboard-volunteer-added", userID))
}

// rosterMove changes a volunteer's status if it is in the expected one (from "" means
// any status but the target).
func (t *turn) rosterMove(v *Volunteer, from, to VolunteerStatus, kind, reason string) error {
	if (from != "" && v.Status != from) || v.Status == to {
		return t.reply(say("switchboard-volunteer-wrong-status", v.UserID, string(v.Status)))
	}
	old := v.Status
	v.Status = to
	if to == VolSuspended || to == VolRemoved {
		v.OnUntil, v.OffUntil = t.now, t.now // off duty at once
	}
	if err := t.tx.SaveVolunteer(t.ctx, v, t.now); err != nil {
		return err
	}
	detail := map[string]string{"from": string(old), "to": string(to)}
	if reason != "" {
		detail["reason"] = reason
	}
	if err := t.rosterEvent(v, kind, detail); err != nil {
		return err
	}
	return t.reply(say("switchboard-volunteer-status", v.UserID, string(to)))
}

func (t *turn) rosterMentor(v *Volunteer, mentorID string) error {
	m, err := t.tx.Volunteer(t.ctx, mentorID)
	if err != nil {
		return err
	}
	if m == nil || m.Status != VolActive || m.ID == v.ID {
		return t.reply(say("switchboard-mentor-invalid", mentorID))
	}
	if v.Status != VolTrainee {
		return t.reply(say("switchboard-volunteer-wrong-status", v.UserID, string(v.Status)))
	}
	v.MentorID = m.ID
	if err := t.tx.SaveVolunteer(t.ctx, v, t.now); err != nil {
		return err
	}
	if err := t.rosterEvent(v, "mentor_set", map[string]string{"mentor": m.UserID}); err != nil {
		return err
	}
	return t.reply(say("switchboard-mentor-set", v.UserID, m.UserID))
}

func (t *turn) rosterEvent(v *Volunteer, kind string, detail map[string]string) error {
	return t.tx.AppendEvent(t.ctx, Event{Actor: t.actor(), Subject: v.UserID, Kind: kind, Detail: detail, At: t.now})
}

// actor names who acted in the audit log: the sender's platform identity.
func (t *turn) actor() string { return t.sender }

func (t *turn) rosterList() error {
	vs, err := t.tx.Volunteers(t.ctx)
	if err != nil {
		return err
	}
	if len(vs) == 0 {
		return t.reply(say("switchboard-roster-empty"))
	}
	items := make([]Reply, 0, len(vs))
	for _, v := range vs {
		items = append(items, say("switchboard-roster-line", v.UserID, string(v.Status), langList(v.Languages), v.CaseLimit))
	}
	return t.replyList(say("switchboard-roster-heading", len(vs)), items)
}

func (t *turn) rosterShow(v *Volunteer) error {
	return t.describeVolunteer(v, "switchboard-volunteer-show")
}

func langList(l []string) string {
	if len(l) == 0 {
		return "—"
	}
	return strings.Join(l, " ")
}
