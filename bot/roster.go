package bot

import (
	"strings"

	"switchboard/commands"
)

// The staff's roster commands: !volunteer add|confirm|mentor|promote|suspend|remove|
// list|show. Every change is written to the audit log with the staff member as actor.

func (t *turn) cmdRosterList(commands.Args) error { return t.rosterList() }

func (t *turn) cmdRosterAdd(a commands.Args) error {
	v, err := t.tx.Volunteer(t.ctx, a.String("user"))
	if err != nil {
		return err
	}
	return t.rosterAdd(v, a.String("user"), a.String("wiki"))
}

func (t *turn) cmdRosterShow(a commands.Args) error {
	return t.onRoster(a, func(v *Volunteer) error { return t.describeVolunteer(v, "switchboard-volunteer-show") })
}

func (t *turn) cmdRosterConfirm(a commands.Args) error {
	return t.onRoster(a, func(v *Volunteer) error {
		return t.rosterMove(v, VolApplicant, VolTrainee, EventVolunteerConfirmed, "")
	})
}

func (t *turn) cmdRosterPromote(a commands.Args) error {
	return t.onRoster(a, func(v *Volunteer) error {
		return t.rosterMove(v, VolTrainee, VolActive, EventVolunteerPromoted, "")
	})
}

func (t *turn) cmdRosterSuspend(a commands.Args) error {
	return t.onRoster(a, func(v *Volunteer) error {
		return t.rosterMove(v, "", VolSuspended, EventVolunteerSuspended, a.String("reason"))
	})
}

func (t *turn) cmdRosterRemove(a commands.Args) error {
	return t.onRoster(a, func(v *Volunteer) error { return t.rosterMove(v, "", VolRemoved, EventVolunteerRemoved, "") })
}

func (t *turn) cmdRosterWiki(a commands.Args) error {
	return t.onRoster(a, func(v *Volunteer) error {
		name, ok := NormalizeUsername(a.String("name"))
		if !ok || name == "" {
			return t.reply(say("switchboard-parties-invalid"))
		}
		old := v.WikiUsername
		v.WikiUsername = name
		if err := t.tx.SaveVolunteer(t.ctx, v, t.now); err != nil {
			return err
		}
		if err := t.rosterEvent(v, EventWikiNameSet, map[string]string{"from": orDash(old)}); err != nil {
			return err
		}
		return t.reply(say("switchboard-volunteer-wiki-set", v.UserID, name))
	})
}

func (t *turn) cmdRosterMentor(a commands.Args) error {
	return t.onRoster(a, func(v *Volunteer) error { return t.rosterMentor(v, a.String("mentor")) })
}

// onRoster runs fn on the volunteer the command names, if they are on the roster.
func (t *turn) onRoster(a commands.Args, fn func(*Volunteer) error) error {
	userID := a.String("user")
	v, err := t.tx.Volunteer(t.ctx, userID)
	if err != nil {
		return err
	}
	if v == nil || v.Status == VolRemoved {
		return t.reply(say("switchboard-volunteer-unknown", userID))
	}
	return fn(v)
}

func (t *turn) rosterAdd(v *Volunteer, userID, typedWiki string) (err error) {
	defer wrapf(&err, "add volunteer %s", userID)
	if v != nil && v.Status != VolRemoved {
		return t.reply(say("switchboard-volunteer-exists", userID, string(v.Status)))
	}
	wiki := ""
	if typedWiki != "" {
		name, ok := NormalizeUsername(typedWiki)
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
	if err := t.rosterEvent(v, EventVolunteerAdded, nil); err != nil {
		return err
	}
	return t.reply(say("switchboard-volunteer-added", userID))
}

// rosterMove changes a volunteer's status if it is in the expected one (from "" means
// any status but the target).
func (t *turn) rosterMove(v *Volunteer, from, to VolunteerStatus, kind EventKind, reason string) (err error) {
	defer wrapf(&err, "move volunteer %s to %s", v.UserID, to)
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
	if err := t.tx.AppendEvent(t.ctx, Event{Actor: t.actor(), Subject: v.UserID, Kind: kind, Detail: detail, Text: reason, At: t.now}); err != nil {
		return err
	}
	if err := t.reply(say("switchboard-volunteer-status", v.UserID, string(to))); err != nil {
		return err
	}
	if to == VolSuspended || to == VolRemoved {
		return t.unassign(v)
	}
	return nil
}

// unassign takes everything from a volunteer staff suspended or removed: their open
// offers go to the next volunteer, the cases they work or mentor go back to the queue,
// and they leave those rooms at once.
func (t *turn) unassign(v *Volunteer) (err error) {
	defer wrapf(&err, "unassign volunteer %s", v.UserID)
	offers, err := t.tx.OpenOffersOf(t.ctx, v.ID)
	if err != nil {
		return err
	}
	for i := range offers {
		c, err := t.tx.Case(t.ctx, offers[i].CaseID)
		if err != nil {
			return err
		}
		if err := t.release(c, &offers[i], OfferWithdrawn, t.sender); err != nil {
			return err
		}
	}
	cases, err := t.tx.CasesWorkedBy(t.ctx, v.ID)
	if err != nil {
		return err
	}
	for i := range cases {
		c := &cases[i]
		from := c.State
		c.State, c.VolunteerID, c.MentorID, c.UpdatedAt = StateQueued, 0, 0, t.now
		if err := t.tx.UpdateCase(t.ctx, c, from); err != nil {
			return err
		}
		if err := t.tx.AppendEvent(t.ctx, Event{CaseID: c.ID, Actor: t.sender, Subject: v.UserID, Kind: EventUnassigned, At: t.now}); err != nil {
			return err
		}
		if c.RoomID != "" {
			if err := t.send(Matrix, c.RoomID, t.s.cfg.DefaultLanguage, true, true, say("switchboard-unassigned-room", c.Ref)); err != nil {
				return err
			}
		}
		if err := t.requeue(c); err != nil {
			return err
		}
	}
	return nil
}

func (t *turn) rosterMentor(v *Volunteer, mentorID string) (err error) {
	defer wrapf(&err, "set the mentor of volunteer %s", v.UserID)
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
	if err := t.rosterEvent(v, EventMentorSet, map[string]string{"mentor": m.UserID}); err != nil {
		return err
	}
	return t.reply(say("switchboard-mentor-set", v.UserID, m.UserID))
}

func (t *turn) rosterEvent(v *Volunteer, kind EventKind, detail map[string]string) error {
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

func langList(l []string) string {
	if len(l) == 0 {
		return "—"
	}
	return strings.Join(l, " ")
}
