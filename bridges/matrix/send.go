package matrix

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/renderer/html"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"switchboard/bot"
)

// md renders the catalogue's Markdown. Raw HTML stays off (goldmark's default): the
// parameters people typed are escaped by the catalogue, and nothing else may inject
// markup. Hard wraps keep line breaks as written.
var md = goldmark.New(goldmark.WithRendererOptions(html.WithHardWraps()))

func render(plain, markdown string, notice bool) *event.MessageEventContent {
	content := &event.MessageEventContent{MsgType: event.MsgText, Body: plain, Mentions: &event.Mentions{}}
	if notice {
		content.MsgType = event.MsgNotice
	}
	var buf bytes.Buffer
	if err := md.Convert([]byte(markdown), &buf); err == nil {
		content.Format, content.FormattedBody = event.FormatHTML, string(bytes.TrimSpace(buf.Bytes()))
	}
	return content
}

// sendTimeout bounds one attempt at delivering an outbox message. A request the
// homeserver never answers would otherwise hold its conversation for mautrix's 180 s
// client timeout, and every later message of the conversation behind
// it. Dendrite 0.13 does this: a room's input worker that has been idle for a minute
// stops just as an event for the room arrives, and the event then waits until another
// one comes (docs/architecture.md, Matrix). The retry is that other event.
var sendTimeout = 30 * time.Second

// Send delivers one outbox message. The outbox ID is the transaction ID, so a message
// sent again after a crash is deduplicated by the homeserver. A message with case
// content is never sent into a room without encryption.
func (b *Bridge) Send(ctx context.Context, o bot.Outgoing) error {
	ctx, cancel := context.WithTimeout(ctx, sendTimeout)
	defer cancel()
	if o.Action != "" {
		return b.act(ctx, o)
	}
	room := id.RoomID(o.Conversation)
	encrypted, err := b.ensureEncryptionKnown(ctx, room)
	if err != nil {
		return classify(err)
	}
	content := render(o.Plain, o.Markdown, o.Notice)
	for _, u := range o.Mentions {
		content.Mentions.UserIDs = append(content.Mentions.UserIDs, id.UserID(u))
	}
	txn := mautrix.ReqSendEvent{TransactionID: "sb-" + strconv.FormatInt(o.ID, 10)}
	if !encrypted {
		if !o.ContentFree {
			return fmt.Errorf("%w: room %s is not encrypted; refusing to send case content", bot.ErrPermanent, room)
		}
		txn.DontEncrypt = true
		_, err = b.cli.SendMessageEvent(ctx, room, event.EventMessage, content, txn)
		return classify(err)
	}
	// Encrypting here, not inside SendMessageEvent, makes "never in plaintext" explicit.
	sealed, err := b.crypto.Encrypt(ctx, room, event.EventMessage, content)
	if err != nil {
		return err // counted and retried: a key-sharing hiccup, say
	}
	_, err = b.cli.SendMessageEvent(ctx, room, event.EventEncrypted, sealed, txn)
	return classify(err)
}

// ensureEncryptionKnown asks the homeserver when the local state does not show
// encryption yet (a room learned only from a /sync still being processed).
func (b *Bridge) ensureEncryptionKnown(ctx context.Context, room id.RoomID) (bool, error) {
	// Encryption cannot be turned off in a Matrix room, so a yes is cached for good.
	if _, ok := b.encrypted.Load(room); ok {
		return true, nil
	}
	enc, err := b.cli.StateStore.IsEncrypted(ctx, room)
	if enc {
		b.encrypted.Store(room, true)
	}
	if err != nil || enc {
		return enc, err
	}
	var content event.EncryptionEventContent
	if err := b.cli.StateEvent(ctx, room, event.StateEncryption, "", &content); err != nil {
		if httpStatus(err) == 404 {
			return false, nil
		}
		return false, err
	}
	if content.Algorithm == "" {
		return false, nil
	}
	// The room's members are likely unknown too; without them the room key would be
	// shared with nobody and the message unreadable. Members() fills the state store.
	if _, err := b.cli.Members(ctx, room); err != nil {
		return false, err
	}
	b.encrypted.Store(room, true)
	return true, b.cli.StateStore.SetEncryptionEvent(ctx, room, &content)
}

// classify tells the outbox whether to wait for the homeserver, give up or retry.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var netErr net.Error
	switch st := httpStatus(err); {
	case st >= 500 || st == 429 || (st == 0 && errors.As(err, &netErr)):
		return fmt.Errorf("%w: %w", bot.ErrUnavailable, err)
	case st == 403 || st == 404:
		return fmt.Errorf("%w: %w", bot.ErrPermanent, err)
	}
	return err
}
