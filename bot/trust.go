package bot

import (
	"context"
	"slices"

	"switchboard/commands"
)

// Device trust. A phished password and a new device must not be enough to act as staff
// or as a volunteer: the Matrix bridge shares room keys only with devices their owner
// cross-signed, and says how far it trusts the device each event came from. Commands
// of a role, offer answers and a helper's words to a requester are taken only from a
// trusted device; requesters are never asked to verify anything.

// DeviceTrust is how far the bridge trusts the device an event came from.
type DeviceTrust int

const (
	// DeviceUnverified: not encrypted, or from a device its owner has not signed. It is
	// the zero value, so an event whose bridge says nothing is trusted with nothing.
	DeviceUnverified DeviceTrust = iota
	// DeviceVerified: encrypted by a device its owner cross-signed, under the identity
	// first seen for them (or any encrypted event where device trust is off).
	DeviceVerified
	// DeviceIdentityChanged: signed, but by an identity that is not the one first seen:
	// a reset of their keys, or someone else's.
	DeviceIdentityChanged
)

// needsTrustedDevice reports whether a command is for a role (not for requesters).
func needsTrustedDevice(r commands.Role) bool { return r&(commands.Anyone|commands.Requester) == 0 }

// trusted reports whether the event being handled may act for a role.
func (t *turn) trusted() bool { return t.in.Platform != Matrix || t.in.Device == DeviceVerified }

// refuseUntrusted answers a role's action from a device the bot does not trust, and
// tells staff (once until someone runs !trust) when an identity changed.
func (t *turn) refuseUntrusted() error {
	if t.in.Device != DeviceIdentityChanged {
		return t.reply(say("switchboard-verify-session"))
	}
	warned, err := t.identityWarned(t.sender)
	if err != nil {
		return err
	}
	if !warned {
		if err := t.tx.AppendEvent(t.ctx, Event{Actor: t.sender, Subject: t.sender, Kind: EventIdentityChanged, At: t.now}); err != nil {
			return err
		}
		if t.s.cfg.StaffConversation != "" {
			if err := t.send(t.s.cfg.StaffPlatform, t.s.cfg.StaffConversation, t.s.cfg.DefaultLanguage, true, true,
				say("switchboard-staff-identity-changed", t.sender)); err != nil {
				return err
			}
		}
	}
	return t.reply(say("switchboard-identity-changed"))
}

// identityWarned reports whether staff were told of user's changed identity since it
// was last accepted.
func (t *turn) identityWarned(user string) (bool, error) {
	events, err := t.tx.AuditOf(t.ctx, user, 200)
	if err != nil {
		return false, err
	}
	for _, e := range slices.Backward(events) {
		if e.Subject != user {
			continue
		}
		switch e.Kind {
		case EventIdentityChanged:
			return true, nil
		case EventIdentityTrusted:
			return false, nil
		}
	}
	return false, nil
}

// cmdTrust is staff accepting the new identity of someone whose keys changed, once
// they have checked with them (in person, by a call): the bridge trusts it from now on.
func (t *turn) cmdTrust(a commands.Args) error {
	user := a.String("user")
	if err := t.tx.AppendEvent(t.ctx, Event{Actor: t.sender, Subject: user, Kind: EventIdentityTrusted, At: t.now}); err != nil {
		return err
	}
	if err := t.enqueue(Outgoing{Platform: Matrix, Conversation: user, Action: ActionTrustIdentity, Payload: ActionPayload{Users: []string{user}}}); err != nil {
		return err
	}
	return t.reply(say("switchboard-trust-done", user))
}

// RequesterReads reports whether a requester reads a Matrix room (her chat with the
// bot, or a shared case room), so that its keys must reach whatever device she uses;
// members are the room's people other than the bot. Everywhere else only staff and
// volunteers read, and only their verified devices get keys.
func (s *Service) RequesterReads(ctx context.Context, room string, members []string) (bool, error) {
	switch room {
	case s.cfg.StaffConversation, s.cfg.CoordinatorsConversation, s.cfg.VolunteersConversation:
		return false, nil
	}
	member := ""
	if len(members) == 1 {
		member = members[0]
	}
	// One read, not a transaction: it comes before every encryption (a reply's
	// latency), and nothing is written.
	r, err := s.store.RoomReaders(ctx, room, member)
	switch {
	case err != nil:
		return false, err
	case r.Case:
		return !r.Relayed && r.RequesterPlatform == Matrix, nil
	case member == "": // a group room that is no case room: not a requester's
		return false, nil
	case s.isStaff(member) || s.isCoordinator(member):
		return false, nil
	}
	return r.VolunteerStatus == "" || r.VolunteerStatus == VolRemoved, nil
}
