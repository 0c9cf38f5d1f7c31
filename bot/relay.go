package bot

import (
	"context"

	"switchboard/i18n"
)

func escape(s string) string { return i18n.EscapeMarkdown(s) }

// The relay joins an IRC requester to their case room on Matrix: what they write to
// the bot while a volunteer (or staff) has the case goes into the room, marked as
// theirs; what the volunteer writes in the room reaches them by private message,
// prefixed with the volunteer's name. Relayed text is passed on, never stored or logged.

// relayActive reports whether the case is being worked in a room the requester is not
// in (an IRC requester), so their messages belong there.
func relayActive(c *Case, p Person) bool {
	return p.Platform == IRC && c.RoomID != "" && (c.State == StateAccepted || c.State == StateActive)
}

// relayIn passes a requester's message into the case room, marked as theirs: from IRC,
// or from their direct chat with the bot when they did not write in the room.
func (t *turn) relayIn(c *Case, text string) error {
	name, via := t.person.ExternalID, "IRC"
	if t.unidentified {
		name = "requester (unidentified)"
	}
	if t.person.Platform == Matrix {
		via = "direct message"
	}
	return t.enqueue(Outgoing{Platform: Matrix, Conversation: c.RoomID,
		Plain: name + " (" + via + "): " + text, Markdown: "**" + escape(name) + "** (" + via + "): " + escape(text)})
}

// relayOut passes a volunteer's message in the room to the IRC requester.
func (t *turn) relayOut(c *Case, senderName, text string) (err error) {
	defer wrapf(&err, "relay to the requester of case %s", c.Ref)
	p, err := t.tx.PersonRef(t.ctx, c.PersonID)
	if err != nil || p.Platform != IRC {
		return err
	}
	return t.enqueue(Outgoing{Platform: IRC, Conversation: c.Conversation, Plain: senderName + ": " + text,
		Markdown: senderName + ": " + text})
}

// RequesterPresence tells an IRC requester's case room when they go offline (their
// messages are kept for them) and when they are back.
func (s *Service) RequesterPresence(ctx context.Context, platform Platform, externalID string, online bool) (err error) {
	defer wrapf(&err, "presence of %s:%s", platform, externalID)
	return s.inTurn(ctx, "bot", func(t *turn) error {
		p, ok, err := t.tx.FindPerson(ctx, platform, externalID)
		if err != nil || !ok {
			return err
		}
		c, err := t.tx.OpenCase(ctx, p.ID)
		if err != nil || c == nil || !relayActive(c, p) {
			return err
		}
		key := "switchboard-relay-away"
		if online {
			key = "switchboard-relay-back"
		}
		return t.send(Matrix, c.RoomID, s.cfg.DefaultLanguage, true, true, say(key))
	})
}

// nameOr is the sender's display name, or their ID.
func nameOr(in Inbound) string {
	if in.SenderName != "" {
		return in.SenderName
	}
	return in.Sender
}
