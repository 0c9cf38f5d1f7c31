package bot

import "slices"

// Membership is a rule, not a hope: after every change of who works a case, the bot
// makes the member list of the case's room exactly the requester (on Matrix), whoever
// works the case now, and itself; a room the case left keeps only the requester. Case
// rooms are created so that only the bot may invite or remove people, and anyone else
// who joins is removed at once, with a reference-only line to staff.

// allowedIn lists who may be in a room of the case now (the bot is not counted).
func (t *turn) allowedIn(c *Case, roomID string) ([]string, error) {
	var users []string
	p, err := t.tx.PersonRef(t.ctx, c.PersonID)
	if err != nil {
		return nil, err
	}
	if p.Platform == Matrix && !c.Relayed {
		users = append(users, p.ExternalID)
	}
	if roomID != c.RoomID || (c.State != StateAccepted && c.State != StateActive) {
		return users, nil
	}
	if c.Route == RouteStaff {
		if c.StaffID != "" {
			users = append(users, c.StaffID)
		}
		return users, nil
	}
	for _, id := range []int64{c.VolunteerID, c.MentorID} {
		if id == 0 {
			continue
		}
		v, err := t.tx.VolunteerByID(t.ctx, id)
		if err != nil {
			return nil, err
		}
		if v != nil {
			users = append(users, v.UserID)
		}
	}
	return users, nil
}

// enforceMembers asks the bridge to remove everyone from the room who is not allowed
// there now.
func (t *turn) enforceMembers(c *Case, roomID string) error {
	if roomID == "" {
		return nil
	}
	users, err := t.allowedIn(c, roomID)
	if err != nil {
		return err
	}
	return t.enqueue(Outgoing{Platform: Matrix, Conversation: roomID, Action: ActionMembers,
		Payload: ActionPayload{CaseID: c.ID, Room: roomID, Users: users}})
}

// intruder handles someone joining a case's room who has no place there: they are
// removed, and staff learn which case it was, nothing more.
func (t *turn) intruder(c *Case, roomID, who string) (bool, error) {
	allowed, err := t.allowedIn(c, roomID)
	if err != nil || slices.Contains(allowed, who) {
		return false, err
	}
	if err := t.enforceMembers(c, roomID); err != nil {
		return true, err
	}
	if err := t.tx.AppendEvent(t.ctx, Event{CaseID: c.ID, Actor: "bot", Subject: who, Kind: EventIntruderRemoved, At: t.now}); err != nil {
		return true, err
	}
	if t.s.cfg.StaffConversation == "" {
		return true, nil
	}
	return true, t.send(t.s.cfg.StaffPlatform, t.s.cfg.StaffConversation, t.s.cfg.DefaultLanguage, true, true,
		say("switchboard-intruder-removed", c.Ref))
}
