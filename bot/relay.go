package bot

import (
	"context"
	"hash/fnv"

	"switchboard/commands"
	"switchboard/i18n"
)

func escape(s string) string { return i18n.EscapeMarkdown(s) }

// The relay joins a requester to the room where their case is worked without putting
// them in it: an IRC requester always, and a Matrix requester in relayed mode (the
// default), where the case room holds the helpers only. What the requester writes to
// the bot while someone works the case goes into the room, marked as theirs; what a
// helper writes there reaches the requester's direct chat under a pseudonym that is
// stable for the case ("Helper Ash"), never their account or display name, unless they
// !reveal themselves. Relayed text is passed on, never stored or logged; the audit log
// keeps who relayed what to whom, without the words.

// relayed reports whether the case is worked in a room the requester is not in, so
// their messages belong there.
func relayed(c *Case, p Person) bool {
	return (p.Platform == IRC || c.Relayed) && c.RoomID != "" && (c.State == StateAccepted || c.State == StateActive)
}

// relayIn passes a requester's message (or edit, reply, reaction, redaction, file)
// into the case room, marked as theirs: from IRC, or from their direct chat.
func (t *turn) relayIn(c *Case, text string) error {
	name, via := t.person.ExternalID, "IRC"
	if t.unidentified {
		name = "requester (unidentified)"
	}
	if t.person.Platform == Matrix {
		via = "direct message"
	}
	if err := t.event(c.ID, 0, "requester", EventRelayed, map[string]string{"to": "workers"}); err != nil {
		return err
	}
	o := Outgoing{Platform: Matrix, Conversation: c.RoomID,
		Plain: name + " (" + via + "): " + text, Markdown: "**" + escape(name) + "** (" + via + "): " + escape(text)}
	if t.person.Platform == IRC {
		return t.enqueue(o) // IRC has no edits, replies or files to follow
	}
	return t.enqueue(t.asRelay(o, c, name+" ("+via+")"))
}

// asRelay makes a message an ActionRelay that carries what the event being handled
// does to an earlier one, or its file, and lets the bridge record its counterpart.
func (t *turn) asRelay(o Outgoing, c *Case, who string) Outgoing {
	in := t.in
	o.Action = ActionRelay
	o.Payload = ActionPayload{CaseID: c.ID, Source: in.EventID, SourceRoom: in.Conversation, Relation: in.Relation, Media: in.Media}
	if in.Kind == KindMedia && in.Media != nil {
		o.Plain, o.Markdown = who+": "+in.Media.Name, "**"+escape(who)+":** "+escape(in.Media.Name)
	}
	return o
}

// relayNonText passes on a reaction, redaction or file that a requester sent in their
// direct chat, when their case is relayed; done is false otherwise.
func (t *turn) relayNonText(in Inbound) (done bool, err error) {
	p, ok, err := t.tx.FindPerson(t.ctx, in.Platform, in.Sender)
	if err != nil || !ok {
		return false, err
	}
	c, err := t.tx.OpenCase(t.ctx, p.ID)
	if err != nil || c == nil || !relayed(c, p) {
		return false, err
	}
	t.person = p
	return true, t.relayIn(c, "")
}

// relayOut passes a helper's message (or edit, reply, reaction, redaction, file) in
// the room to a requester who is not in it, under the helper's pseudonym for the case.
// Never the display name, not even in a shared room: it is the helper's to choose and
// could read "Switchboard" or anyone's name.
func (t *turn) relayOut(c *Case, text string) error { return t.relayOutAs(c, text, text) }

// relayOutAs is relayOut of a text with a plain form of its own (a text module, whose
// Markdown is the bot's to render).
func (t *turn) relayOutAs(c *Case, plain, markdown string) (err error) {
	defer wrapf(&err, "relay to the requester of case %s", c.Ref)
	p, err := t.tx.PersonRef(t.ctx, c.PersonID)
	if err != nil || !relayed(c, p) {
		return err
	}
	if (t.in.Kind == KindText || t.in.Kind == KindMedia) && !t.trusted() {
		// A helper's words reach a person in distress only from a device its owner
		// signed: a phished password and a new login must not be enough to speak to her.
		// (Reactions and redactions are never encrypted, so they cannot be told apart.)
		return t.refuseUntrusted()
	}
	name := t.pseudonym(c, t.sender)
	if err := t.tx.AppendEvent(t.ctx, Event{CaseID: c.ID, Actor: t.sender, Kind: EventRelayed,
		Detail: map[string]string{"to": "requester"}, At: t.now}); err != nil {
		return err
	}
	if p.Platform == IRC {
		line, ok := t.ircLine(name, plain)
		if !ok {
			return nil
		}
		return t.enqueue(Outgoing{Platform: IRC, Conversation: c.Conversation, Plain: line, Markdown: line})
	}
	// A helper's words keep their formatting: Markdown, rendered without raw HTML.
	o := Outgoing{Platform: Matrix, Conversation: c.Conversation, Plain: name + ": " + plain,
		Markdown: "**" + escape(name) + ":** " + markdown}
	return t.enqueue(t.asRelay(o, c, name))
}

// ircLine says on IRC what a helper did on Matrix: IRC has no edits, reactions,
// redactions or files, so they become plain lines.
func (t *turn) ircLine(name, text string) (string, bool) {
	lang := t.s.cfg.DefaultLanguage
	switch {
	case t.in.Kind == KindMedia && t.in.Media != nil:
		s, _ := t.s.cat.Render(lang, "switchboard-relay-irc-file", name, t.in.Media.Name)
		return s, true
	case t.in.Kind == KindReaction:
		s, _ := t.s.cat.Render(lang, "switchboard-relay-irc-reaction", name, t.in.Relation.Key)
		return s, true
	case t.in.Kind == KindRedaction:
		s, _ := t.s.cat.Render(lang, "switchboard-relay-irc-redaction", name)
		return s, true
	case t.in.Relation.Kind == RelEdit:
		s, _ := t.s.cat.Render(lang, "switchboard-relay-irc-edit", name, text)
		return s, true
	case text == "":
		return "", false
	}
	return name + ": " + text, true
}

// helperNames give pseudonyms: short, easy to read, not anyone's account.
var helperNames = []string{"Ash", "Birch", "Cedar", "Elm", "Fern", "Hazel", "Iris", "Juniper", "Laurel",
	"Linden", "Maple", "Olive", "Poplar", "Rowan", "Sage", "Willow", "Alder", "Aspen", "Clover", "Heather"}

// pseudonym names a helper to the requester: the same for the whole case, and
// different helpers of one case (a volunteer, their mentor, staff after an escalation)
// usually differ. It says the role, not who.
func (t *turn) pseudonym(c *Case, userID string) string {
	h := fnv.New32a()
	h.Write([]byte(c.Ref))
	h.Write([]byte{0})
	h.Write([]byte(userID))
	key := "switchboard-pseudonym-helper"
	if c.Route == RouteStaff {
		key = "switchboard-pseudonym-staff"
	}
	lang := t.s.cfg.DefaultLanguage
	name, _ := t.s.cat.Render(lang, key, helperNames[h.Sum32()%uint32(len(helperNames))])
	return name
}

// cmdReveal lets a helper tell the requester who they are, in a relayed case: their
// choice, audited.
func (t *turn) cmdReveal(commands.Args) error {
	c := t.caller.room
	if !c.Relayed {
		return t.reply(say("switchboard-reveal-shared"))
	}
	p, err := t.tx.PersonRef(t.ctx, c.PersonID)
	if err != nil {
		return err
	}
	if err := t.tx.AppendEvent(t.ctx, Event{CaseID: c.ID, Actor: t.sender, Subject: t.sender, Kind: EventRevealed, At: t.now}); err != nil {
		return err
	}
	lang := p.Language
	if lang == "" {
		lang = t.s.cfg.DefaultLanguage
	}
	who := t.sender
	if t.senderName != "" && t.senderName != t.sender {
		who = t.senderName + " (" + t.sender + ")"
	}
	if err := t.send(p.Platform, c.Conversation, lang, false, false, say("switchboard-revealed", t.pseudonym(c, t.sender), who)); err != nil {
		return err
	}
	return t.reply(say("switchboard-reveal-done", c.Ref))
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
		if err != nil || c == nil || p.Platform != IRC || !relayed(c, p) {
			return err
		}
		key := "switchboard-relay-away"
		if online {
			key = "switchboard-relay-back"
		}
		return t.send(Matrix, c.RoomID, s.cfg.DefaultLanguage, true, true, say(key))
	})
}
