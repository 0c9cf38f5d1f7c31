package matrix

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"switchboard/bot"
)

// act performs an outbox action: a case room, an invitation, a removal.
func (b *Bridge) act(ctx context.Context, o bot.Outgoing) error {
	switch o.Action {
	case bot.ActionCreateRoom:
		return b.createCaseRoom(ctx, o.Payload)
	case bot.ActionInvite:
		for _, u := range o.Payload.Users {
			_, err := b.cli.InviteUser(ctx, id.RoomID(o.Payload.Room), &mautrix.ReqInviteUser{UserID: id.UserID(u)})
			if err != nil && !alreadyThere(err) {
				return classify(err)
			}
		}
		return nil
	case bot.ActionRemove:
		for _, u := range o.Payload.Users {
			_, err := b.cli.KickUser(ctx, id.RoomID(o.Payload.Room), &mautrix.ReqKickUser{UserID: id.UserID(u)})
			if err != nil && !alreadyThere(err) {
				return classify(err)
			}
		}
		return nil
	case bot.ActionMembers:
		return b.enforceMembers(ctx, o.Payload)
	case bot.ActionRelay:
		return b.relay(ctx, o)
	case bot.ActionLeave:
		return b.leaveAndForget(ctx, id.RoomID(o.Payload.Room))
	case bot.ActionImage:
		return b.sendImage(ctx, o)
	case bot.ActionTrustIdentity:
		return b.trustIdentities(ctx, o.Payload.Users)
	}
	return fmt.Errorf("%w: unknown action %q", bot.ErrPermanent, o.Action)
}

// leaveAndForget leaves the room of a case whose content was erased and discards the
// bot's Megolm sessions for it (the ones it received, whose keys read the room's
// history, and the one it sends with), and any of its events still waiting for keys:
// a copy of the crypto store no longer opens what was said there. Leaving a room the
// bot is no longer in counts as done.
func (b *Bridge) leaveAndForget(ctx context.Context, room id.RoomID) error {
	if _, err := b.cli.LeaveRoom(ctx, room); err != nil && httpStatus(err) != 403 && httpStatus(err) != 404 {
		return classify(err)
	}
	cs := b.helper.Machine().CryptoStore
	sessions, err := cs.GetGroupSessionsForRoom(ctx, room).AsList()
	if err != nil {
		return err
	}
	for _, s := range sessions {
		if err := cs.RedactGroupSession(ctx, room, s.ID(), "the case was erased"); err != nil {
			return err
		}
	}
	if err := cs.RemoveOutboundGroupSession(ctx, room); err != nil {
		return err
	}
	if err := b.store.DeletePendingEventsIn(ctx, room.String()); err != nil {
		return err
	}
	b.encrypted.Delete(room)
	b.log.Info().Stringer("room_id", room).Int("sessions", len(sessions)).Msg("Left an erased case's room and discarded its keys")
	return nil
}

// alreadyThere: inviting a member or removing someone who left is already done.
func alreadyThere(err error) bool {
	return errors.Is(err, mautrix.MForbidden) && httpStatus(err) == 403 &&
		(strings.Contains(err.Error(), "already") || strings.Contains(err.Error(), "not in the room") ||
			strings.Contains(err.Error(), "not joined"))
}

// enforceMembers removes from a case room everyone joined or invited who is not among
// the payload's users (nor the bot). The member list comes from the homeserver, not
// from the bot's state store, so nobody is missed who joined while the bot was away.
func (b *Bridge) enforceMembers(ctx context.Context, p bot.ActionPayload) error {
	room := id.RoomID(p.Room)
	resp, err := b.cli.Members(ctx, room)
	if err != nil {
		if httpStatus(err) == 403 || httpStatus(err) == 404 {
			return fmt.Errorf("%w: cannot list members of %s: %w", bot.ErrPermanent, room, err)
		}
		return classify(err)
	}
	allowed := make(map[id.UserID]bool, len(p.Users))
	for _, u := range p.Users {
		allowed[id.UserID(u)] = true
	}
	for _, evt := range resp.Chunk {
		user := id.UserID(evt.GetStateKey())
		m := evt.Content.AsMember().Membership
		if user == b.cli.UserID || allowed[user] || (m != event.MembershipJoin && m != event.MembershipInvite) {
			continue
		}
		_, err := b.cli.KickUser(ctx, room, &mautrix.ReqKickUser{UserID: user})
		if err != nil && !alreadyThere(err) {
			return classify(err)
		}
		b.log.Info().Stringer("room_id", room).Msg("Removed someone who no longer works the case")
	}
	return nil
}

// casePowerLevels let only the bot invite, remove or change the room: in the presets
// any member may invite anyone, and a requester or volunteer could bring in a stranger.
func (b *Bridge) casePowerLevels() *event.PowerLevelsEventContent {
	hundred, fifty := 100, 50
	return &event.PowerLevelsEventContent{
		Users:           map[id.UserID]int{b.cli.UserID: 100},
		UsersDefault:    0,
		EventsDefault:   0,
		StateDefaultPtr: &hundred,
		InvitePtr:       &hundred,
		KickPtr:         &hundred,
		BanPtr:          &hundred,
		RedactPtr:       &fifty,
	}
}

// createCaseRoom makes a case's room: invite-only, unlisted, encrypted from its first
// event, history visible only from when someone was invited. The alias makes this
// idempotent: if a previous attempt created the room but the bot stopped before
// recording it, the alias finds that room instead of making a second one.
func (b *Bridge) createCaseRoom(ctx context.Context, p bot.ActionPayload) error {
	invite := make([]id.UserID, len(p.Users))
	for i, u := range p.Users {
		invite[i] = id.UserID(u)
	}
	req := &mautrix.ReqCreateRoom{
		Visibility: "private", Preset: "private_chat", RoomAliasName: p.Alias, Name: p.Name, Invite: invite,
		PowerLevelOverride: b.casePowerLevels(),
		InitialState: []*event.Event{
			{Type: event.StateEncryption, Content: event.Content{Parsed: &event.EncryptionEventContent{Algorithm: id.AlgorithmMegolmV1}}},
			{Type: event.StateHistoryVisibility, Content: event.Content{Parsed: &event.HistoryVisibilityEventContent{HistoryVisibility: event.HistoryVisibilityInvited}}},
			{Type: event.StateJoinRules, Content: event.Content{Parsed: &event.JoinRulesEventContent{JoinRule: event.JoinRuleInvite}}},
		},
	}
	var room id.RoomID
	resp, err := b.cli.CreateRoom(ctx, req)
	switch {
	case err == nil:
		room = resp.RoomID
	case errors.Is(err, mautrix.MRoomInUse):
		alias := id.NewRoomAlias(p.Alias, b.cli.UserID.Homeserver())
		res, rerr := b.cli.ResolveAlias(ctx, alias)
		if rerr != nil {
			return classify(rerr)
		}
		room = res.RoomID
		// Learn the room's encryption and members now: the summary will be sent into it.
		// A room behind our alias that is not encrypted is not one we made: refuse it.
		encrypted, err := b.ensureEncryptionKnown(ctx, room)
		if err != nil {
			return classify(err)
		}
		if !encrypted {
			return fmt.Errorf("%w: the room behind alias %s is not encrypted; not using it for a case", bot.ErrPermanent, alias)
		}
	default:
		return classify(err)
	}
	b.encrypted.Store(room, true)
	if err := b.svc.RoomCreated(ctx, p.CaseID, room.String()); err != nil {
		return fmt.Errorf("%w: %w", bot.ErrUnavailable, err)
	}
	// Someone quick may have joined before the room was recorded, and their join event
	// found no case then: tell the core about everyone in the room now (deduplicated).
	members, err := b.cli.JoinedMembers(ctx, room)
	if err != nil {
		return nil // their join event, if it comes later, does the same
	}
	for user := range members.Joined {
		if user == b.cli.UserID {
			continue
		}
		in := bot.Inbound{Platform: bot.Matrix, EventID: "join:" + room.String() + ":" + user.String(),
			Sender: user.String(), Conversation: room.String()}
		if err := b.svc.Joined(ctx, in); err != nil {
			b.log.Warn().Err(err).Stringer("room_id", room).Msg("Could not record an early join")
		}
	}
	return nil
}
