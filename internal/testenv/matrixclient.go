package testenv

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/crypto"
	"maunium.net/go/mautrix/crypto/cryptohelper"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// Msg is an m.room.message event as the client saw it, decrypted when it
// arrived encrypted.
type Msg struct {
	Room          id.RoomID
	Sender        id.UserID
	ID            id.EventID
	Type          event.MessageType
	Body          string
	FormattedBody string
	Encrypted     bool // it was m.room.encrypted on the wire
	Time          time.Time
	Event         *event.Event // the decrypted event, for mentions, relations and the like
}

// Invite is a room the client was invited to and has joined.
type Invite struct {
	Room     id.RoomID
	Inviter  id.UserID
	IsDirect bool
}

// Client is a scripted Matrix user with end-to-end encryption: the requester,
// volunteer or coordinator on the other side of the bot in end-to-end tests.
// It joins every room it is invited to and records every message it sees.
type Client struct {
	// ExpectTimeout bounds Expect and NextInvite-style helpers that take a
	// testing.TB instead of a context.
	ExpectTimeout time.Duration

	cli   *mautrix.Client
	db    *sql.DB
	ownDB bool // db was opened by Dial (not a SharedDB pool)
	log   zerolog.Logger
	logs  *logBuffer

	ctx      context.Context
	cancel   context.CancelFunc
	syncDone chan struct{}
	joins    sync.WaitGroup
	closed   sync.Once

	mu            sync.Mutex
	changed       chan struct{} // closed and replaced on every new record
	msgs          map[id.RoomID][]Msg
	cursor        map[id.RoomID]int
	seen          map[id.EventID]bool
	joining       map[id.RoomID]bool
	invites       []Invite
	inviteCursor  int
	undecryptable []id.EventID
	helper        *cryptohelper.CryptoHelper
	password      string
	recoveryKey   string
	// events is every timeline event seen per room, decrypted where it could be.
	events      map[id.RoomID][]*event.Event
	ciphertexts map[id.RoomID][]id.UserID // senders of m.room.encrypted, decryptable or not
}

// pickleKey only protects crypto state in a throwaway test database.
var pickleKey = []byte("switchboard-testenv")

// NewClient logs userID in with a new device whose crypto store lives in the
// database dbDSN (give each client its own, e.g. Postgres.NewDatabase), and
// starts syncing. It is closed when the test ends, and its debug log is
// printed if the test failed.
func NewClient(ctx context.Context, tb testing.TB, hsURL string, userID id.UserID, password, dbDSN string, opts ...DialOption) (*Client, error) {
	c, err := Dial(ctx, hsURL, userID, password, dbDSN, opts...)
	if err != nil {
		return nil, err
	}
	tb.Cleanup(func() {
		c.Close()
		if tb.Failed() {
			tb.Logf("testenv: log of Matrix client %s:\n%s", userID, c.logs.tail(16384))
		}
	})
	return c, nil
}

// Dial is NewClient outside tests (the sandbox, load generators): the caller
// closes the client.
func Dial(ctx context.Context, hsURL string, userID id.UserID, password, dbDSN string, opts ...DialOption) (*Client, error) {
	var o dialOpts
	for _, opt := range opts {
		opt(&o)
	}
	logs := &logBuffer{}
	log := zerolog.New(logs).Level(zerolog.DebugLevel).With().Timestamp().Stringer("user_id", userID).Logger()
	cli, err := mautrix.NewClient(hsURL, userID, "")
	if err != nil {
		return nil, err
	}
	cli.Log = log
	syncer := &retryingSyncer{mautrix.NewDefaultSyncer()}
	cli.Syncer = syncer

	db, ownDB := o.db, o.db == nil
	if ownDB {
		var err error
		if db, err = sql.Open("postgres", dbDSN); err != nil {
			return nil, err
		}
	}
	// closeDB gives back what Dial opened when it fails; a shared pool stays open.
	closeDB := func() {
		if ownDB {
			db.Close()
		}
	}
	wrapped, err := dbutil.NewWithDB(db, "postgres")
	if err != nil {
		closeDB()
		return nil, err
	}
	helper, err := cryptohelper.NewCryptoHelper(cli, pickleKey, wrapped)
	if err != nil {
		closeDB()
		return nil, err
	}
	// Account IDs keep several users apart should they share a database.
	helper.DBAccountID = userID.String()
	helper.LoginAs = &mautrix.ReqLogin{
		Type:                     mautrix.AuthTypePassword,
		Identifier:               mautrix.UserIdentifier{Type: mautrix.IdentifierTypeUser, User: userID.String()},
		Password:                 password,
		InitialDeviceDisplayName: "switchboard testenv",
	}
	c := &Client{
		ExpectTimeout: 20 * time.Second,
		cli:           cli,
		db:            db,
		ownDB:         ownDB,
		log:           log,
		logs:          logs,
		syncDone:      make(chan struct{}),
		changed:       make(chan struct{}),
		msgs:          map[id.RoomID][]Msg{},
		cursor:        map[id.RoomID]int{},
		seen:          map[id.EventID]bool{},
		joining:       map[id.RoomID]bool{},
		events:        map[id.RoomID][]*event.Event{},
		ciphertexts:   map[id.RoomID][]id.UserID{},
	}
	helper.DecryptErrorCallback = c.onUndecryptable
	if err := helper.Init(ctx); err != nil {
		closeDB()
		return nil, fmt.Errorf("testenv: crypto init for %s: %w\n%s", userID, err, logs.tail(4096))
	}
	cli.Crypto = helper
	c.helper, c.password = helper, password
	if !o.unverified {
		// As Element does at a first login: the user's identity, which signs this device.
		if err := c.ResetIdentity(ctx); err != nil {
			closeDB()
			return nil, err
		}
	}
	syncer.OnEventType(event.EventMessage, c.onMessage)
	syncer.OnEventType(event.EventEncrypted, c.onEncrypted)
	syncer.OnEventType(event.StateMember, c.onMember)
	syncer.OnEvent(c.onAny)

	c.ctx, c.cancel = context.WithCancel(context.Background())
	go c.syncLoop()
	return c, nil
}

// retryingSyncer retries a failed /sync after a short pause instead of
// mautrix's 10 s, so that tests that restart the homeserver stay fast.
type retryingSyncer struct{ *mautrix.DefaultSyncer }

func (s *retryingSyncer) OnFailedSync(_ *mautrix.RespSync, err error) (time.Duration, error) {
	if errors.Is(err, mautrix.MUnknownToken) {
		return 0, err
	}
	return 250 * time.Millisecond, nil
}

func (c *Client) syncLoop() {
	defer close(c.syncDone)
	for {
		err := c.cli.SyncWithContext(c.ctx)
		if c.ctx.Err() != nil {
			return
		}
		c.log.Warn().Err(err).Msg("sync stopped, restarting")
		select {
		case <-c.ctx.Done():
			return
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// Close stops syncing and closes the crypto database. It deliberately does
// not call CryptoHelper.Close, which would close a pool it may not own.
func (c *Client) Close() {
	c.closed.Do(func() {
		c.cli.StopSync()
		c.cancel()
		<-c.syncDone
		c.joins.Wait()
		if c.ownDB {
			_ = c.db.Close()
		}
	})
}

// UserID is the client's Matrix user.
func (c *Client) UserID() id.UserID { return c.cli.UserID }

// DeviceID is the device the client logged in with.
func (c *Client) DeviceID() id.DeviceID { return c.cli.DeviceID }

// Mautrix exposes the underlying client for anything the script API lacks.
func (c *Client) Mautrix() *mautrix.Client { return c.cli }

// notifyLocked wakes every waiter; c.mu must be held.
func (c *Client) notifyLocked() {
	close(c.changed)
	c.changed = make(chan struct{})
}

func (c *Client) onMessage(_ context.Context, evt *event.Event) {
	content := evt.Content.AsMessage()
	m := Msg{
		Room:          evt.RoomID,
		Sender:        evt.Sender,
		ID:            evt.ID,
		Type:          content.MsgType,
		Body:          content.Body,
		FormattedBody: content.FormattedBody,
		Encrypted:     evt.Mautrix.WasEncrypted,
		Time:          time.UnixMilli(evt.Timestamp),
		Event:         evt,
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seen[evt.ID] {
		return
	}
	c.seen[evt.ID] = true
	c.msgs[evt.RoomID] = append(c.msgs[evt.RoomID], m)
	c.notifyLocked()
}

func (c *Client) onUndecryptable(evt *event.Event, err error) {
	c.log.Warn().Err(err).Stringer("event_id", evt.ID).Stringer("room_id", evt.RoomID).Msg("undecryptable event")
	c.mu.Lock()
	defer c.mu.Unlock()
	c.undecryptable = append(c.undecryptable, evt.ID)
	c.notifyLocked()
}

// onEncrypted records who sent ciphertext where, whether or not it could be
// decrypted: a test may wait for a message its client is not meant to read.
func (c *Client) onEncrypted(_ context.Context, evt *event.Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ciphertexts[evt.RoomID] = append(c.ciphertexts[evt.RoomID], evt.Sender)
	c.notifyLocked()
}

// onMember joins rooms we are invited to. An invite also reappears in the
// timeline once we have joined, hence the check of where it came from and
// the joining set.
func (c *Client) onMember(_ context.Context, evt *event.Event) {
	if evt.GetStateKey() != c.cli.UserID.String() {
		return
	}
	content := evt.Content.AsMember()
	switch {
	case content.Membership == event.MembershipLeave || content.Membership == event.MembershipBan:
		// Kicked or left: a later invite to the same room must be accepted again.
		c.mu.Lock()
		delete(c.joining, evt.RoomID)
		c.mu.Unlock()
		return
	case content.Membership != event.MembershipInvite || evt.Mautrix.EventSource&event.SourceInvite == 0:
		return
	}
	c.mu.Lock()
	if c.joining[evt.RoomID] {
		c.mu.Unlock()
		return
	}
	c.joining[evt.RoomID] = true
	c.mu.Unlock()
	inv := Invite{Room: evt.RoomID, Inviter: evt.Sender, IsDirect: content.IsDirect}
	// Joining off the sync goroutine keeps it processing the events we wait for.
	c.joins.Go(func() {
		if err := c.Join(c.ctx, inv.Room); err != nil {
			c.log.Warn().Err(err).Stringer("room_id", inv.Room).Msg("auto-join failed")
			c.mu.Lock()
			delete(c.joining, inv.Room)
			c.mu.Unlock()
			return
		}
		c.mu.Lock()
		c.invites = append(c.invites, inv)
		c.notifyLocked()
		c.mu.Unlock()
	})
}

// Join joins a room and loads its members and encryption state at once, so
// that a Send right after it is encrypted for everyone in the room; waiting
// for /sync to deliver them would race with the script.
func (c *Client) Join(ctx context.Context, room id.RoomID) error {
	if _, err := c.cli.JoinRoomByID(ctx, room); err != nil {
		return err
	}
	if _, err := c.cli.Members(ctx, room); err != nil {
		return err
	}
	var enc event.EncryptionEventContent
	if err := c.cli.StateEvent(ctx, room, event.StateEncryption, "", &enc); err != nil && !errors.Is(err, mautrix.MNotFound) {
		return err
	}
	return nil
}

// CreateDM creates an encrypted, invite-only direct chat with other, the way
// Element starts a DM.
func (c *Client) CreateDM(ctx context.Context, other id.UserID) (id.RoomID, error) {
	return c.createEncrypted(ctx, &mautrix.ReqCreateRoom{IsDirect: true, Invite: []id.UserID{other}})
}

// CreateRoom creates an encrypted, invite-only group room, such as a
// coordinators' or staff room.
func (c *Client) CreateRoom(ctx context.Context, name string, invite ...id.UserID) (id.RoomID, error) {
	return c.createEncrypted(ctx, &mautrix.ReqCreateRoom{Name: name, Invite: invite})
}

func (c *Client) createEncrypted(ctx context.Context, req *mautrix.ReqCreateRoom) (id.RoomID, error) {
	req.Preset = "private_chat"
	req.InitialState = []*event.Event{{
		Type:    event.StateEncryption,
		Content: event.Content{Parsed: &event.EncryptionEventContent{Algorithm: id.AlgorithmMegolmV1}},
	}}
	resp, err := c.cli.CreateRoom(ctx, req)
	if err != nil {
		return "", err
	}
	return resp.RoomID, nil
}

// Send sends a plain-text message, encrypted.
func (c *Client) Send(ctx context.Context, room id.RoomID, text string) (id.EventID, error) {
	return c.SendContent(ctx, room, &event.MessageEventContent{MsgType: event.MsgText, Body: text})
}

// SendContent sends any message content, encrypted. It refuses rooms without
// encryption rather than leak a test's "private" message in plaintext.
func (c *Client) SendContent(ctx context.Context, room id.RoomID, content *event.MessageEventContent) (id.EventID, error) {
	enc, err := c.cli.StateStore.IsEncrypted(ctx, room)
	if err != nil {
		return "", err
	}
	if !enc {
		var ev event.EncryptionEventContent
		if err := c.cli.StateEvent(ctx, room, event.StateEncryption, "", &ev); err != nil {
			return "", fmt.Errorf("testenv: %s is not an encrypted room, not sending: %w", room, err)
		}
	}
	// mautrix v0.32 drops a room's outbound session when a membership change arrives
	// between sharing it and encrypting with it (someone joining as we write); the
	// encryption then fails with "no group session created". Element retries such a
	// send, and so does the scripted user. No pause is needed: the change that
	// dropped the session has been applied by then, so the retry shares a new
	// session with the room as it now is.
	for attempt := 1; ; attempt++ {
		resp, err := c.cli.SendMessageEvent(ctx, room, event.EventMessage, content)
		if err == nil {
			return resp.EventID, nil
		}
		if attempt == 3 || !errors.Is(err, crypto.ErrNoGroupSession) {
			return "", err
		}
	}
}

// Leave leaves a room.
func (c *Client) Leave(ctx context.Context, room id.RoomID) error {
	if _, err := c.cli.LeaveRoom(ctx, room); err != nil {
		return err
	}
	c.mu.Lock()
	delete(c.joining, room)
	c.mu.Unlock()
	return nil
}
