package bot

import (
	"context"
	"crypto/rand"
	"encoding/hex"

	"switchboard/commands"
)

// openCaseRoom asks the Matrix bridge for the case's room, or, when the case already
// has one (after a transfer), to invite the new volunteer into it. The alias is a
// random idempotency key: created twice after a crash, the second attempt finds the
// first room instead of making another.
func (t *turn) openCaseRoom(c *Case, v *Volunteer) error {
	users := []string{v.UserID}
	if c.MentorID != 0 {
		m, err := t.tx.VolunteerByID(t.ctx, c.MentorID)
		if err != nil {
			return err
		}
		if m != nil {
			users = append(users, m.UserID)
		}
	}
	return t.openRoomFor(c, users)
}

// openRoomFor invites the people working a case into its room, creating the room (with
// the requester, if they are on Matrix) when the case has none yet.
func (t *turn) openRoomFor(c *Case, users []string) (err error) {
	defer wrapf(&err, "open the room of case %s", c.Ref)
	if c.RoomID != "" {
		return t.enqueue(Outgoing{Platform: Matrix, Conversation: c.RoomID, Action: ActionInvite,
			Payload: ActionPayload{CaseID: c.ID, Room: c.RoomID, Users: users}})
	}
	p, err := t.tx.PersonByID(t.ctx, c.PersonID)
	if err != nil {
		return err
	}
	// Whether the requester shares the room is decided now, for the case's life: a
	// change of configuration never moves a requester into, or out of, a room.
	c.Relayed = !t.s.cfg.SharedRooms
	if p.Platform == Matrix && !c.Relayed {
		users = append(users, p.ExternalID)
	}
	var key [8]byte
	_, _ = rand.Read(key[:])
	c.RoomAlias = "sb-" + hex.EncodeToString(key[:])
	if err := t.tx.UpdateCase(t.ctx, c, c.State); err != nil {
		return err
	}
	name, _ := t.s.cat.Render(t.s.cfg.DefaultLanguage, "switchboard-room-name", c.Ref)
	return t.enqueue(Outgoing{Platform: Matrix, Conversation: "case:" + c.Ref, Action: ActionCreateRoom,
		Payload: ActionPayload{CaseID: c.ID, Alias: c.RoomAlias, Name: name, Users: users}})
}

// RoomCreated records the room the bridge made for a case.
func (s *Service) RoomCreated(ctx context.Context, caseID int64, roomID string) (err error) {
	defer wrapf(&err, "record the room of case %d", caseID)
	return s.inTurn(ctx, "bot", func(t *turn) error {
		c, err := t.tx.Case(ctx, caseID)
		if err != nil || c == nil || c.RoomID == roomID {
			return err
		}
		c.RoomID, c.UpdatedAt = roomID, t.now
		if err := t.tx.UpdateCase(ctx, c, c.State); err != nil {
			return err
		}
		if err := t.tx.RecordRoom(ctx, c.ID, roomID, t.now); err != nil {
			return err
		}
		return t.tx.AppendEvent(ctx, Event{CaseID: c.ID, Actor: "bot", Kind: EventRoomCreated, At: t.now})
	})
}

// Joined tells the core that someone joined a room. Someone who has no place in a case's
// room is removed at once. When the case's volunteer joins its room, the intake summary
// is posted: only now, so nobody who has not accepted the case can read it, and clients
// have the sender's keys by then.
func (s *Service) Joined(ctx context.Context, in Inbound) (err error) {
	defer wrapf(&err, "%s joined room %s", in.Sender, in.Conversation)
	return s.inTurn(ctx, in.Sender, func(t *turn) error {
		fresh, err := t.tx.MarkProcessed(ctx, in.Platform, in.EventID, t.now)
		if err != nil || !fresh {
			return err
		}
		c, err := t.tx.CaseByRoom(ctx, in.Conversation)
		if err != nil || c == nil {
			return err
		}
		if out, err := t.intruder(c, in.Conversation, in.Sender); out || err != nil {
			return err
		}
		if c.State != StateAccepted || c.RoomID != in.Conversation {
			return nil
		}
		if c.Route == RouteStaff && c.StaffID != in.Sender {
			return nil
		}
		if c.Route == RouteVolunteer {
			v, err := t.tx.VolunteerByID(ctx, c.VolunteerID)
			if err != nil || v == nil || v.UserID != in.Sender {
				return err
			}
		}
		c.State, c.UpdatedAt = StateActive, t.now
		if err := t.tx.UpdateCase(ctx, c, StateAccepted); err != nil {
			return err
		}
		if err := t.tx.AppendEvent(ctx, Event{CaseID: c.ID, Actor: in.Sender, Kind: EventWorkerJoined, At: t.now}); err != nil {
			return err
		}
		t.platform, t.conv = Matrix, c.RoomID
		rs, err := t.caseSummary(c)
		if err != nil {
			return err
		}
		if c.Route == RouteStaff {
			rs = append(rs, say("switchboard-room-help-staff"))
		} else {
			rs = append(rs, say("switchboard-room-help"))
		}
		if p, err := t.tx.PersonRef(ctx, c.PersonID); err != nil {
			return err
		} else if p.Platform == IRC {
			rs = append(rs, say("switchboard-relay-intro"))
		} else if c.Relayed {
			rs = append(rs, say("switchboard-relay-intro-relayed", t.pseudonym(c, in.Sender)))
		}
		if err := t.reply(rs...); err != nil {
			return err
		}
		if c.Route != RouteVolunteer {
			return nil
		}
		// The volunteer's checklist, after the summary (the same message).
		plain, md, err := t.checklist()
		if err != nil || md == "" {
			return err
		}
		return t.enqueue(Outgoing{Platform: Matrix, Conversation: c.RoomID, Plain: plain, Markdown: md})
	})
}

// inTurn runs fn as one transaction whose messages go to the outbox.
func (s *Service) inTurn(ctx context.Context, sender string, fn func(*turn) error) error {
	var queued []Outgoing
	armed := false
	err := s.store.InTx(ctx, func(tx Tx) error {
		queued, armed = queued[:0], false
		t := &turn{s: s, tx: tx, ctx: ctx, now: s.now(), queued: &queued, sender: sender, armed: &armed}
		if err := fn(t); err != nil {
			return err
		}
		return storeOutgoing(ctx, tx, queued)
	})
	if err == nil {
		s.outbox.Push(queued)
		if armed {
			s.kickTimers()
		}
	}
	return err
}

// inCaseRoom handles a message in a case room: the commands of whoever works the case
// (its volunteer or mentor; on the staff route, any staff member: staff see
// everything). Everything else is the conversation between the people in the room:
// the bot only notes when the worker first wrote, for the statistics, and relays it to
// an IRC requester.
func (t *turn) inCaseRoom(c *Case, in Inbound) (err error) {
	defer wrapf(&err, "in the room of case %s", c.Ref)
	nonText := in.Kind == KindMedia || in.Kind == KindReaction || in.Kind == KindRedaction
	if in.Kind != KindText && !nonText {
		return nil
	}
	var worker *Volunteer
	canWork := t.s.isStaff(in.Sender) && c.Route == RouteStaff
	if c.Route == RouteVolunteer {
		var err error
		if worker, err = t.caseWorker(c, in.Sender); err != nil {
			return err
		}
		canWork = worker != nil
	}
	// A case is worked from its current room only; a room it left is not a place to act.
	current := c.RoomID == in.Conversation
	canWork = canWork && c.State.Open() && current
	if nonText { // a worker's file, reaction or redaction reaches a requester who is not here
		if !canWork {
			return nil
		}
		return t.relayOut(c, "")
	}
	text := Sanitize(in.Text)
	who := caller{Caller: commands.Caller{Roles: commands.Anyone, Place: commands.CaseRoom}, room: c, worker: worker}
	if canWork {
		who.Roles |= commands.Worker
	}
	if isCommand, err := t.dispatch(who, text); isCommand || err != nil {
		return err
	}
	if !canWork {
		requester, err := t.tx.PersonRef(t.ctx, c.PersonID)
		if err != nil || requester.Platform != Matrix || requester.ExternalID != in.Sender {
			return err
		}
		if current && worked(c) {
			return nil // the conversation with whoever works the case: they read it here
		}
		return t.inOtherRoom(c, text)
	}
	if c.FirstReplyAt.IsZero() {
		c.FirstReplyAt = t.now
		if err := t.tx.UpdateCase(t.ctx, c, c.State); err != nil {
			return err
		}
	}
	return t.relayOut(c, text)
}

// The commands of whoever works a case, in its room: t.caller.room is the case.

func (t *turn) cmdNote(a commands.Args) error {
	c := t.caller.room
	if err := t.tx.AddNote(t.ctx, c.ID, t.sender, a.String("text"), t.now); err != nil {
		return err
	}
	if err := t.tx.AppendEvent(t.ctx, Event{CaseID: c.ID, Actor: t.sender, Kind: EventNoteAdded, At: t.now}); err != nil {
		return err
	}
	return t.reply(say("switchboard-note-kept"))
}

func (t *turn) cmdTransfer(a commands.Args) error {
	c := t.caller.room
	if c.Route == RouteStaff {
		return t.transferStaff(c, a.String("to"))
	}
	return t.transfer(c, t.caller.worker, a.String("to"))
}

func (t *turn) cmdEscalate(commands.Args) error {
	c := t.caller.room
	if c.Route == RouteStaff {
		return t.reply(say("switchboard-escalate-staff"))
	}
	return t.escalate(c, t.caller.worker)
}

// caseWorker is the volunteer (or mentor) working the case, if that is the sender.
func (t *turn) caseWorker(c *Case, sender string) (*Volunteer, error) {
	for _, id := range []int64{c.VolunteerID, c.MentorID} {
		if id == 0 {
			continue
		}
		v, err := t.tx.VolunteerByID(t.ctx, id)
		if err != nil {
			return nil, err
		}
		if v != nil && v.UserID == sender {
			return v, nil
		}
	}
	return nil, nil
}

func (t *turn) cmdClose(a commands.Args) error {
	c, reason := t.caller.room, a.String("reason")
	if note := a.String("note"); note != "" {
		if err := t.tx.AddNote(t.ctx, c.ID, t.sender, note, t.now); err != nil {
			return err
		}
	}
	from := c.State
	c.State, c.ClosedAt, c.CloseReason, c.UpdatedAt = StateClosed, t.now, reason, t.now
	if err := t.tx.UpdateCase(t.ctx, c, from); err != nil {
		return err
	}
	if err := t.tx.AppendEvent(t.ctx, Event{CaseID: c.ID, Actor: t.sender, Kind: EventCaseClosed, Detail: map[string]string{"reason": reason}, At: t.now}); err != nil {
		return err
	}
	if err := t.followUpPages(c, ActionPageResolve); err != nil {
		return err
	}
	if err := t.reply(say("switchboard-closed-room", c.Ref)); err != nil {
		return err
	}
	if err := t.enforceMembers(c, c.RoomID); err != nil {
		return err
	}
	return t.tellRequester(c, say("switchboard-feedback-ask", c.Ref))
}

// transfer hands the case back to routing; the volunteer leaves the room, and the next
// volunteer is invited to it and gets the summary when they join.
func (t *turn) transfer(c *Case, v *Volunteer, reason string) (err error) {
	defer wrapf(&err, "transfer case %s", c.Ref)
	from := c.State
	c.State, c.VolunteerID, c.MentorID, c.UpdatedAt = StateQueued, 0, 0, t.now
	if err := t.tx.UpdateCase(t.ctx, c, from); err != nil {
		return err
	}
	if err := t.tx.AppendEvent(t.ctx, Event{CaseID: c.ID, Actor: v.UserID, Kind: EventTransferred, Text: reason, At: t.now}); err != nil {
		return err
	}
	if err := t.reply(say("switchboard-transferred-room", c.Ref)); err != nil {
		return err
	}
	return t.requeue(c)
}

// requeue puts a case whose workers left back in the queue: the room keeps only the
// requester until the next volunteer is invited, the queue's timers watch it again,
// and it is offered on.
func (t *turn) requeue(c *Case) error {
	if err := t.enforceMembers(c, c.RoomID); err != nil {
		return err
	}
	key := "switchboard-transferred-requester"
	if c.Relayed {
		key = "switchboard-transferred-requester-relayed"
	}
	if err := t.tellRequester(c, say(key, c.Ref)); err != nil {
		return err
	}
	if err := t.armQueueTimers(c); err != nil {
		return err
	}
	return t.route(c)
}

// escalate moves the case to the staff route: the volunteer (and mentor) leave the room
// and never see the case again; staff are told.
func (t *turn) escalate(c *Case, v *Volunteer) (err error) {
	defer wrapf(&err, "escalate case %s", c.Ref)
	from, oldRoom := c.State, c.RoomID
	// The staff get a room of their own on !ack; this one keeps only the requester.
	c.Route, c.State, c.UpdatedAt, c.RoomID = RouteStaff, StateStaff, t.now, ""
	c.VolunteerID, c.MentorID = 0, 0
	if err := t.tx.UpdateCase(t.ctx, c, from); err != nil {
		return err
	}
	for _, tm := range []TimerKind{TimerQueueAlert, TimerReassure} {
		if err := t.tx.DeleteTimer(t.ctx, tm, c.ID); err != nil {
			return err
		}
	}
	if err := t.tx.AppendEvent(t.ctx, Event{CaseID: c.ID, Actor: v.UserID, Kind: EventEscalated, At: t.now}); err != nil {
		return err
	}
	if err := t.reply(say("switchboard-escalated-room", c.Ref)); err != nil {
		return err
	}
	if err := t.enforceMembers(c, oldRoom); err != nil {
		return err
	}
	if err := t.startPaging(c); err != nil {
		return err
	}
	return t.tellRequester(c, say("switchboard-escalated-requester", c.Ref))
}
