package testenv

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
	"maunium.net/go/mautrix/synapseadmin"
)

// Dendrite passes events between its components through JetStream, which the
// -ci config keeps in memory (a persistent one crashes v0.13.8 on restart).
// An event the roomserver has accepted but the sync API has not yet consumed
// is therefore lost by a restart: the sender got an event ID, the recipients
// never see it, and on a loaded machine that window is wide enough to break
// restart tests now and then.
// Before stopping, Down pushes a marker through the room-event and to-device
// streams and waits until /sync returns it; JetStream delivers in order, so
// everything accepted earlier has been consumed by then.

var barrierType = event.Type{Type: "org.switchboard.testenv.barrier", Class: event.ToDeviceEventType}

// barrier is the homeserver's own probe account; it is created on first use.
type barrier struct {
	mu    sync.Mutex
	cli   *mautrix.Client
	room  id.RoomID
	since string
}

func (d *Dendrite) settle(ctx context.Context) error {
	b := &d.barrier
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cli == nil {
		if err := d.initBarrier(ctx, b); err != nil {
			return err
		}
	}
	nonce := randomHex(8)
	if _, err := b.cli.SendMessageEvent(ctx, b.room, event.EventMessage,
		&event.MessageEventContent{MsgType: event.MsgNotice, Body: nonce}); err != nil {
		return err
	}
	if _, err := b.cli.SendToDevice(ctx, barrierType, &mautrix.ReqSendToDevice{
		Messages: map[id.UserID]map[id.DeviceID]*event.Content{
			b.cli.UserID: {b.cli.DeviceID: {Raw: map[string]any{"nonce": nonce}}},
		},
	}); err != nil {
		return err
	}
	sawRoom, sawDevice := false, false
	for !sawRoom || !sawDevice {
		resp, err := b.cli.FullSyncRequest(ctx, mautrix.ReqSync{Since: b.since, Timeout: 1000})
		if err != nil {
			return err
		}
		b.since = resp.NextBatch
		if joined := resp.Rooms.Join[b.room]; joined != nil {
			for _, evt := range joined.Timeline.Events {
				sawRoom = sawRoom || evt.Content.Raw["body"] == nonce
			}
		}
		for _, evt := range resp.ToDevice.Events {
			sawDevice = sawDevice || evt.Content.Raw["nonce"] == nonce
		}
	}
	return nil
}

func (d *Dendrite) initBarrier(ctx context.Context, b *barrier) error {
	cli, err := mautrix.NewClient(d.URL(), "", "")
	if err != nil {
		return err
	}
	admin := synapseadmin.Client{Client: cli}
	resp, err := admin.SharedSecretRegister(ctx, d.secret, synapseadmin.ReqSharedSecretRegister{
		Username: "testenv-barrier-" + randomHex(3),
		Password: randomHex(12),
	})
	if err != nil {
		return fmt.Errorf("register barrier user: %w", err)
	}
	if resp.AccessToken == "" {
		return errors.New("register barrier user: no access token")
	}
	cli.UserID, cli.DeviceID, cli.AccessToken = resp.UserID, resp.DeviceID, resp.AccessToken
	room, err := cli.CreateRoom(ctx, &mautrix.ReqCreateRoom{Preset: "private_chat"})
	if err != nil {
		return err
	}
	first, err := cli.FullSyncRequest(ctx, mautrix.ReqSync{})
	if err != nil {
		return err
	}
	b.cli, b.room, b.since = cli, room.RoomID, first.NextBatch
	return nil
}
