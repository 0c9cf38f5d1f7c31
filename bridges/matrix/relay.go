package matrix

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/crypto/attachment"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"switchboard/bot"
)

// maxRelayedFile bounds a file the bot fetches and re-uploads: it holds it in memory
// once, and a homeserver's own upload limit is usually about this.
var maxRelayedFile = 20 << 20

// relay passes one event of a relayed case to the other side (bot.ActionRelay): a
// message (replying to the counterpart of what it replied to), an edit of the
// counterpart, a reaction on it, its redaction, or a file fetched and uploaded again,
// encrypted. What it sent is recorded as the source's counterpart; the outbox ID is the
// transaction ID, so a send repeated after a crash is the same event.
func (b *Bridge) relay(ctx context.Context, o bot.Outgoing) error {
	p := o.Payload
	room := id.RoomID(o.Conversation)
	txn := "sb-" + strconv.FormatInt(o.ID, 10)
	var target id.EventID
	if p.Relation.EventID != "" {
		t, err := b.store.Counterpart(ctx, p.Relation.EventID, room.String())
		if err != nil {
			return fmt.Errorf("%w: %w", bot.ErrUnavailable, err)
		}
		target = id.EventID(t)
	}
	var evtType event.Type
	var content any
	switch p.Relation.Kind {
	case bot.RelRedact:
		if target == "" {
			return nil // the original never reached the other side
		}
		_, err := b.cli.RedactEvent(ctx, room, target, mautrix.ReqRedact{TxnID: txn})
		return classify(err)
	case bot.RelReact:
		if target == "" {
			return nil
		}
		evtType = event.EventReaction
		content = &event.ReactionEventContent{RelatesTo: event.RelatesTo{Type: event.RelAnnotation, EventID: target, Key: p.Relation.Key}}
	default:
		msg, err := b.relayedContent(ctx, o)
		if err != nil {
			return err
		}
		switch {
		case p.Relation.Kind == bot.RelEdit && target != "":
			msg.SetEdit(target)
		case p.Relation.Kind == bot.RelReply && target != "":
			msg.RelatesTo = (&event.RelatesTo{}).SetReplyTo(target)
		}
		evtType, content = event.EventMessage, msg
	}
	resp, err := b.sendEncrypted(ctx, room, evtType, content, txn)
	if err != nil {
		return err
	}
	if p.Source != "" {
		if err := b.store.RecordRelayed(ctx, p.CaseID, p.SourceRoom, p.Source, room.String(), resp.String()); err != nil {
			// Sent, but not remembered: a later edit of it goes as a new message. Retrying
			// the send finds the same event (same transaction) and records it then.
			return fmt.Errorf("%w: %w", bot.ErrUnavailable, err)
		}
	}
	return nil
}

// relayedContent is the message to send: the text, or a file fetched from where the
// sender put it and uploaded again, encrypted, for the other side.
func (b *Bridge) relayedContent(ctx context.Context, o bot.Outgoing) (*event.MessageEventContent, error) {
	m := o.Payload.Media
	if m == nil {
		return render(o.Plain, o.Markdown, false), nil
	}
	if m.Size > maxRelayedFile {
		return b.tooLarge(o, m.Size), nil
	}
	var data []byte
	var err error
	if len(m.File) > 0 {
		var f event.EncryptedFileInfo
		if err := json.Unmarshal(m.File, &f); err != nil {
			return nil, fmt.Errorf("%w: bad file description: %w", bot.ErrPermanent, err)
		}
		uri, perr := f.URL.Parse()
		if perr != nil {
			return nil, fmt.Errorf("%w: bad file URL: %w", bot.ErrPermanent, perr)
		}
		if data, err = b.cli.DownloadBytes(ctx, uri); err != nil {
			return nil, classify(err)
		}
		if err := f.DecryptInPlace(data); err != nil {
			return nil, fmt.Errorf("%w: cannot decrypt the file: %w", bot.ErrPermanent, err)
		}
	} else {
		uri, perr := id.ContentURIString(m.URL).Parse()
		if perr != nil {
			return nil, fmt.Errorf("%w: bad file URL: %w", bot.ErrPermanent, perr)
		}
		if data, err = b.cli.DownloadBytes(ctx, uri); err != nil {
			return nil, classify(err)
		}
	}
	if len(data) > maxRelayedFile {
		return b.tooLarge(o, len(data)), nil
	}
	return b.uploadEncrypted(ctx, data, m, o.Plain)
}

// uploadEncrypted encrypts a file with a fresh key, uploads it, and returns the message
// that carries it (the key travels inside the encrypted event only).
func (b *Bridge) uploadEncrypted(ctx context.Context, data []byte, m *bot.Media, body string) (*event.MessageEventContent, error) {
	file := attachment.NewEncryptedFile()
	file.EncryptInPlace(data)
	up, err := b.cli.UploadBytes(ctx, data, "application/octet-stream")
	if err != nil {
		return nil, classify(err)
	}
	msgType := event.MessageType(m.MsgType)
	switch msgType {
	case event.MsgImage, event.MsgVideo, event.MsgAudio, event.MsgFile:
	default:
		msgType = event.MsgFile
	}
	return &event.MessageEventContent{MsgType: msgType, Body: body, FileName: m.Name, Mentions: &event.Mentions{},
		File: &event.EncryptedFileInfo{EncryptedFile: *file, URL: up.ContentURI.CUString()},
		Info: &event.FileInfo{MimeType: m.MimeType, Size: len(data), Width: m.Width, Height: m.Height}}, nil
}

// sendImage posts an image the core drew (bot.ActionImage: the coverage heat map) into
// an encrypted room, uploaded encrypted like a relayed file. The outbox ID is the
// transaction ID, so an image sent again after a crash is the same event (the upload
// may be repeated; the homeserver keeps the unused copy).
func (b *Bridge) sendImage(ctx context.Context, o bot.Outgoing) error {
	m := o.Payload.Media
	if m == nil || len(m.Data) == 0 {
		return fmt.Errorf("%w: an image action without an image", bot.ErrPermanent)
	}
	room := id.RoomID(o.Conversation)
	encrypted, err := b.ensureEncryptionKnown(ctx, room)
	if err != nil {
		return classify(err)
	}
	if !encrypted {
		return fmt.Errorf("%w: room %s is not encrypted; refusing to post an image into it", bot.ErrPermanent, room)
	}
	// Encryption works in place: the outbox row keeps its own copy for a retry.
	content, err := b.uploadEncrypted(ctx, bytes.Clone(m.Data), m, o.Plain)
	if err != nil {
		return err
	}
	_, err = b.sendEncrypted(ctx, room, event.EventMessage, content, "sb-"+strconv.FormatInt(o.ID, 10))
	return err
}

func (b *Bridge) tooLarge(o bot.Outgoing, size int) *event.MessageEventContent {
	who := o.Plain
	if i := len(who) - len(o.Payload.Media.Name) - 2; i > 0 {
		who = who[:i] // "Helper Ash: name" → "Helper Ash"
	}
	plain, md := b.cat.Render(b.cfg.DefaultLanguage, "switchboard-relay-too-large", who,
		fmt.Sprintf("%.1f", float64(size)/(1<<20)), maxRelayedFile>>20)
	return render(plain, md, true)
}

// sendEncrypted sends an event into an encrypted room, encrypted here so that "never in
// plaintext" is explicit; a relayed case's rooms are always encrypted.
func (b *Bridge) sendEncrypted(ctx context.Context, room id.RoomID, evtType event.Type, content any, txn string) (id.EventID, error) {
	encrypted, err := b.ensureEncryptionKnown(ctx, room)
	if err != nil {
		return "", classify(err)
	}
	if !encrypted {
		return "", fmt.Errorf("%w: room %s is not encrypted; refusing to relay into it", bot.ErrPermanent, room)
	}
	sealed, err := b.crypto.Encrypt(ctx, room, evtType, content)
	if err != nil {
		return "", err
	}
	resp, err := b.cli.SendMessageEvent(ctx, room, event.EventEncrypted, sealed, mautrix.ReqSendEvent{TransactionID: txn})
	if err != nil {
		return "", classify(err)
	}
	return resp.EventID, nil
}
