package matrix

import (
	"context"
	"encoding/json"
	"errors"
	"slices"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"switchboard/bot"
)

// onMember hands the rooms the bot is invited to to the joiner, which joins them
// apart from /sync (see joiner). Invites arrive twice (invite section and timeline),
// so a room is handed over once.
func (b *Bridge) onMember(ctx context.Context, evt *event.Event) {
	if evt.GetStateKey() != b.cli.UserID.String() {
		b.othersMembership(ctx, evt)
		return
	}
	m := evt.Content.AsMember()
	if m.Membership != event.MembershipInvite {
		if m.Membership == event.MembershipLeave || m.Membership == event.MembershipBan {
			b.joinMu.Lock()
			delete(b.joined, evt.RoomID)
			b.joinMu.Unlock()
			b.joins.cancel(ctx, evt.RoomID)
		}
		return
	}
	b.joinMu.Lock()
	already := b.joined[evt.RoomID]
	b.joined[evt.RoomID] = true
	b.joinMu.Unlock()
	if already {
		return
	}
	if err := b.joins.add(ctx, evt.RoomID); err != nil {
		// Not recorded (the bot is stopping): the batch is fetched again.
		b.joinMu.Lock()
		delete(b.joined, evt.RoomID)
		b.joinMu.Unlock()
		b.syncer.incomplete.Store(true)
	}
}

// checkGroup leaves a room that has become more than the bot and one other person,
// unless it is a configured room or one the bot made itself (a case room). Checked on
// joining and whenever someone else is invited or joins later, since in a room created
// with several invitations the bot may join before the others are invited.
func (b *Bridge) checkGroup(ctx context.Context, room id.RoomID) {
	if b.allowed(room) || b.isDM(ctx, room) {
		return
	}
	if b.createdByMe(ctx, room) {
		return
	}
	b.leaveGroup(ctx, room)
}

// createdByMe reports whether the bot created the room (case rooms are the bot's).
func (b *Bridge) createdByMe(ctx context.Context, room id.RoomID) bool {
	evt, err := b.cli.FullStateEvent(ctx, room, event.StateCreate, "")
	return err == nil && evt != nil && evt.Sender == b.cli.UserID
}

// leaveGroup says, kindly and without any case content, that the bot only talks in
// private, then leaves.
func (b *Bridge) leaveGroup(ctx context.Context, room id.RoomID) {
	plain, md := b.cat.Render(b.cfg.DefaultLanguage, "switchboard-not-dm")
	content := render(plain, md, true)
	if _, err := b.cli.SendMessageEvent(ctx, room, event.EventMessage, content); err != nil {
		b.log.Warn().Err(err).Stringer("room_id", room).Msg("Could not say goodbye in a group room")
	}
	if _, err := b.cli.LeaveRoom(ctx, room); err != nil {
		b.log.Warn().Err(err).Stringer("room_id", room).Msg("Could not leave a group room")
	}
	b.log.Info().Stringer("room_id", room).Msg("Left a room that is not a private chat")
}

func (b *Bridge) allowed(room id.RoomID) bool { return slices.Contains(b.cfg.AllowedRooms, room) }

// onMessage turns a (decrypted) room message into an Inbound for the core.
func (b *Bridge) onMessage(ctx context.Context, evt *event.Event) {
	b.syncer.markHandled(evt.ID)
	if in, ok := b.inbound(ctx, evt); ok && !b.handle(ctx, in) {
		return // kept as pending; the batch is processed again
	}
	b.pending.done(ctx, evt.ID)
}

// inbound describes a message for the core; ok is false for messages the bot ignores.
func (b *Bridge) inbound(ctx context.Context, evt *event.Event) (in bot.Inbound, ok bool) {
	if evt.Sender == b.cli.UserID || isInitialSync(ctx) {
		return in, false
	}
	content := evt.Content.AsMessage()
	if content.MsgType == event.MsgNotice {
		return in, false // other bots: answering them could loop
	}
	in = bot.Inbound{Platform: bot.Matrix, EventID: evt.ID.String(), Sender: evt.Sender.String(),
		Conversation: evt.RoomID.String(), Group: !b.isDM(ctx, evt.RoomID), Device: b.deviceTrust(evt)}
	if m, err := b.cli.StateStore.GetMember(ctx, evt.RoomID, evt.Sender); err == nil && m != nil && m.Displayname != "" {
		in.SenderName = m.Displayname // for relays to IRC
	}
	switch {
	case evt.Mautrix.EventSource&event.SourceDecrypted == 0:
		in.Kind = bot.KindUnencrypted
	case content.MsgType == event.MsgText || content.MsgType == event.MsgEmote:
		rel := content.RelatesTo
		content.RemoveReplyFallback()
		in.Kind, in.Text = bot.KindText, content.Body
		if content.NewContent != nil {
			// An edit: relayed as one in a relayed case; anywhere else the new text is
			// taken as a new message.
			in.Text = content.NewContent.Body
			in.Relation = bot.Relation{Kind: bot.RelEdit, EventID: rel.GetReplaceID().String()}
		} else if r := rel.GetReplyTo(); r != "" {
			in.Relation = bot.Relation{Kind: bot.RelReply, EventID: r.String()}
		}
	case content.MsgType == event.MsgImage || content.MsgType == event.MsgFile ||
		content.MsgType == event.MsgVideo || content.MsgType == event.MsgAudio:
		in.Kind, in.Media = bot.KindMedia, mediaOf(content)
	default:
		in.Kind = bot.KindNonText
	}
	return in, true
}

// handle passes an event to the core, which retries while the database is away. If it
// still fails (the bot is stopping), the sync batch is marked incomplete so the event
// comes again; handle then reports false.
func (b *Bridge) handle(ctx context.Context, in bot.Inbound) bool {
	if err := b.svc.Handle(ctx, in); err != nil {
		b.syncer.incomplete.Store(true)
		if ctx.Err() == nil {
			b.log.Err(err).Str("event_id", in.EventID).Msg("Could not handle an event; it will be processed again")
		}
		return false
	}
	return true
}

// isDM reports whether only the bot and one other person are in (or invited to) a room.
func (b *Bridge) isDM(ctx context.Context, room id.RoomID) bool {
	members, err := b.cli.StateStore.GetRoomJoinedOrInvitedMembers(ctx, room)
	if err != nil {
		return false
	}
	return len(members) <= 2
}

// afterEncrypted runs after cryptohelper's handler. If the event was not decrypted
// at once, the helper waits for its keys in the background while /sync moves on, so
// the raw event is kept in the database until it is handled.
func (b *Bridge) afterEncrypted(ctx context.Context, evt *event.Event) {
	if evt.Sender == b.cli.UserID || isInitialSync(ctx) {
		return
	}
	if b.syncer.wasHandled(evt.ID) {
		return
	}
	if err := b.pending.keep(ctx, evt); err != nil {
		b.syncer.incomplete.Store(true)
	}
}

// onDecryptError answers kindly when a message cannot be decrypted, never silently.
func (b *Bridge) onDecryptError(evt *event.Event, err error) {
	if evt.Sender == b.cli.UserID {
		return
	}
	if errors.Is(err, context.Canceled) {
		// Stopping: the event stays in matrix_pending_events and is retried next start.
		return
	}
	ctx := context.Background()
	b.log.Warn().Err(err).Stringer("event_id", evt.ID).Stringer("sender", evt.Sender).Msg("Could not decrypt a message")
	in := bot.Inbound{Platform: bot.Matrix, EventID: evt.ID.String(), Sender: evt.Sender.String(),
		Conversation: evt.RoomID.String(), Kind: bot.KindUndecryptable, Group: !b.isDM(ctx, evt.RoomID)}
	if b.handle(ctx, in) {
		b.pending.done(ctx, evt.ID)
	}
}

// retryPending hands events kept from a previous run back to the crypto helper, which
// decrypts them (waiting for keys if needed) and dispatches them as usual.
func (b *Bridge) retryPending(ctx context.Context) {
	events, err := b.pending.load(ctx)
	if err != nil {
		b.log.Err(err).Msg("Could not read pending encrypted events")
		return
	}
	ctx = context.WithValue(ctx, mautrix.SyncTokenContextKey, "pending")
	for _, evt := range events {
		b.log.Info().Stringer("event_id", evt.ID).Msg("Retrying an encrypted event kept from before a restart")
		go b.helper.HandleEncrypted(ctx, evt)
	}
}

// othersMembership tells the core when someone joins a room, which matters in case
// rooms: the summary waits for the volunteer.
func (b *Bridge) othersMembership(ctx context.Context, evt *event.Event) {
	if isInitialSync(ctx) || evt.Mautrix.EventSource&event.SourceTimeline == 0 {
		return
	}
	switch evt.Content.AsMember().Membership {
	case event.MembershipInvite:
		b.checkGroup(ctx, evt.RoomID)
		return
	case event.MembershipJoin:
		b.checkGroup(ctx, evt.RoomID)
	default:
		return
	}
	if prev := evt.Unsigned.PrevContent; prev != nil {
		_ = prev.ParseRaw(event.StateMember)
		if prev.AsMember().Membership == event.MembershipJoin {
			return // a profile change, not a join
		}
	}
	in := bot.Inbound{Platform: bot.Matrix, EventID: evt.ID.String(), Sender: evt.GetStateKey(), Conversation: evt.RoomID.String()}
	if err := b.svc.Joined(ctx, in); err != nil {
		b.syncer.incomplete.Store(true)
	}
}

// mediaOf describes a file message for a relay: where it is, and its key when it is
// encrypted (the bot fetches and uploads it again, encrypted, for the other side).
func mediaOf(content *event.MessageEventContent) *bot.Media {
	m := &bot.Media{MsgType: string(content.MsgType), Name: content.FileName, URL: string(content.URL)}
	if m.Name == "" {
		m.Name = content.Body
	}
	if content.Info != nil {
		m.MimeType, m.Size = content.Info.MimeType, content.Info.Size
	}
	if content.File != nil {
		if raw, err := json.Marshal(content.File); err == nil {
			m.File = raw
		}
	}
	return m
}

// onRedaction passes a redaction to the core, which relays it in a relayed case.
func (b *Bridge) onRedaction(ctx context.Context, evt *event.Event) {
	if evt.Sender == b.cli.UserID || isInitialSync(ctx) {
		return
	}
	target := evt.Redacts
	if target == "" {
		target = evt.Content.AsRedaction().Redacts
	}
	in := bot.Inbound{Platform: bot.Matrix, EventID: evt.ID.String(), Sender: evt.Sender.String(),
		Conversation: evt.RoomID.String(), Kind: bot.KindRedaction, Group: !b.isDM(ctx, evt.RoomID), Device: b.deviceTrust(evt),
		Relation: bot.Relation{Kind: bot.RelRedact, EventID: target.String()}}
	b.handle(ctx, in)
}

// acceptKeys and declineKeys are the reactions that answer an offer.
var (
	acceptKeys  = map[string]bool{"👍": true, "👍️": true, "✅": true, "✔️": true}
	declineKeys = map[string]bool{"👎": true, "👎️": true, "❌": true}
)

// onReaction passes reactions to the core: 👍/👎 in a direct chat answer a volunteer's
// single open offer, and in a relayed case any reaction is passed to the other side.
func (b *Bridge) onReaction(ctx context.Context, evt *event.Event) {
	b.syncer.markHandled(evt.ID)
	if evt.Sender == b.cli.UserID || isInitialSync(ctx) {
		return
	}
	rel := evt.Content.AsReaction().RelatesTo
	in := bot.Inbound{Platform: bot.Matrix, EventID: evt.ID.String(), Sender: evt.Sender.String(),
		Conversation: evt.RoomID.String(), Kind: bot.KindReaction, Group: !b.isDM(ctx, evt.RoomID), Device: b.deviceTrust(evt),
		Relation: bot.Relation{Kind: bot.RelReact, EventID: rel.EventID.String(), Key: rel.Key}}
	switch {
	case acceptKeys[rel.Key]:
		in.Text = bot.ReactAccept
	case declineKeys[rel.Key]:
		in.Text = bot.ReactDecline
	}
	if b.handle(ctx, in) {
		b.pending.done(ctx, evt.ID)
	}
}
