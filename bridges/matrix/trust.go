package matrix

import (
	"context"
	"sync"

	"maunium.net/go/mautrix/crypto/cryptohelper"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"switchboard/bot"
)

// Device trust: room keys go only to devices their owner cross-signed (trust on first
// use of the owner's identity), wherever staff or volunteers read; a requester's chat,
// and a shared case room that she reads, keep mautrix's default of every device, since
// a person in distress on a fresh login must not meet a wall. The policy is per room,
// but mautrix reads one SendKeysMinTrust for the whole machine: keyGate lets
// encryptions under one policy run together and makes the other wait.

// minTrust is the least trust a device needs to get a room's keys.
func (b *Bridge) minTrust(ctx context.Context, room id.RoomID) id.TrustState {
	if b.cfg.AnyDevice {
		return id.TrustStateUnset
	}
	requesterReads, err := b.svc.RequesterReads(ctx, room.String(), b.otherMembers(ctx, room))
	if err != nil {
		// Not knowing, the strict way: a requester who misses a message can ask again;
		// keys that reached a stranger's device cannot be taken back.
		b.log.Warn().Err(err).Stringer("room", room).Msg("Could not tell who reads a room; sharing its keys with verified devices only")
	}
	if requesterReads && err == nil {
		return id.TrustStateUnset
	}
	return id.TrustStateCrossSignedTOFU
}

func (b *Bridge) otherMembers(ctx context.Context, room id.RoomID) []string {
	members, err := b.cli.StateStore.GetRoomJoinedOrInvitedMembers(ctx, room)
	if err != nil {
		return nil
	}
	out := make([]string, 0, len(members))
	for _, m := range members {
		if m != b.cli.UserID {
			out = append(out, m.String())
		}
	}
	return out
}

// keyGate is the crypto helper with the room's key policy applied to each encryption.
type keyGate struct {
	*cryptohelper.CryptoHelper
	b       *Bridge
	mu      sync.Mutex
	cond    *sync.Cond
	mode    id.TrustState
	active  int
	waiting map[id.TrustState]int
}

func newKeyGate(h *cryptohelper.CryptoHelper, b *Bridge) *keyGate {
	g := &keyGate{CryptoHelper: h, b: b, waiting: map[id.TrustState]int{}}
	g.cond = sync.NewCond(&g.mu)
	return g
}

// Encrypt encrypts for a room, sharing a new session only with the devices its policy
// allows. An encryption waits while others run under the other policy, and a newcomer
// under the running policy waits behind one that waits for the other.
func (g *keyGate) Encrypt(ctx context.Context, room id.RoomID, t event.Type, content any) (*event.EncryptedEventContent, error) {
	want := g.b.minTrust(ctx, room)
	g.mu.Lock()
	g.waiting[want]++
	for g.active > 0 && (g.mode != want || g.othersWait(want)) {
		g.cond.Wait()
	}
	g.waiting[want]--
	if g.active == 0 {
		// Written only when no encryption runs: mautrix reads it unlocked.
		g.mode = want
		g.Machine().SendKeysMinTrust = want
	}
	g.active++
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		if g.active--; g.active == 0 {
			g.cond.Broadcast()
		}
		g.mu.Unlock()
	}()
	g.b.syncer.crypto.RLock()
	defer g.b.syncer.crypto.RUnlock()
	return g.CryptoHelper.Encrypt(ctx, room, t, content)
}

func (g *keyGate) othersWait(mode id.TrustState) bool {
	for m, n := range g.waiting {
		if m != mode && n > 0 {
			return true
		}
	}
	return false
}

// deviceTrust says how far the device an event came from is trusted. Reactions and
// redactions are never encrypted by Element, so they carry no device: under the
// cross-signed policy they are unverified.
func (b *Bridge) deviceTrust(evt *event.Event) bot.DeviceTrust {
	if evt.Mautrix.EventSource&event.SourceDecrypted == 0 {
		if b.cfg.AnyDevice {
			return bot.DeviceVerified // the account is the unit of trust
		}
		return bot.DeviceUnverified
	}
	switch ts := evt.Mautrix.TrustState; {
	case b.cfg.AnyDevice || ts >= id.TrustStateCrossSignedTOFU:
		return bot.DeviceVerified
	case ts == id.TrustStateCrossSignedUntrusted:
		return bot.DeviceIdentityChanged // signed, but not by the identity first seen
	}
	return bot.DeviceUnverified
}

// trustIdentities makes the current cross-signing identity of users the trusted one
// (staff checked it with them), and starts new sessions in their rooms so that their
// devices, withheld from until now, get keys.
func (b *Bridge) trustIdentities(ctx context.Context, users []string) error {
	mach := b.helper.Machine()
	for _, u := range users {
		user := id.UserID(u)
		if _, err := mach.FetchKeys(ctx, []id.UserID{user}, true); err != nil {
			return classify(err)
		}
		keys, err := mach.CryptoStore.GetCrossSigningKeys(ctx, user)
		if err != nil {
			return err
		}
		msk, ok := keys[id.XSUsageMaster]
		if !ok {
			continue // no identity to trust: their devices stay unverified
		}
		if err := mach.CryptoStore.ResetMasterKeyTOFU(ctx, user, msk.Key); err != nil {
			return err
		}
		mach.OnDevicesChanged(ctx, user)
	}
	return nil
}
