package testenv

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"

	"maunium.net/go/mautrix"
)

// DialOption changes how Dial sets a client up.
type DialOption func(*dialOpts)

type dialOpts struct {
	unverified bool
	db         *sql.DB // a pool shared with other clients, not closed by Close
}

// Unverified leaves the new device unsigned, as a second login of a user who never
// verified it (a phished password, say): the user's identity, if they have one,
// does not vouch for it.
func Unverified() DialOption { return func(o *dialOpts) { o.unverified = true } }

// SharedDB keeps the client's crypto store in db, a pool shared with other clients,
// instead of a pool of its own on dbDSN (Dial then ignores dbDSN). Account IDs keep the
// clients apart in one database. A load generator with hundreds of clients needs this:
// a pool each, with idle connections of its own, outgrows PostgreSQL's max_connections.
// The schema is created by the first client's Dial, so dial one client alone before
// dialling others at once. Close leaves the pool open.
func SharedDB(db *sql.DB) DialOption { return func(o *dialOpts) { o.db = db } }

// ResetIdentity gives the user a new cross-signing identity (master, self-signing and
// user-signing keys) that signs this device. Dial does it once, as Element does at a
// first login; doing it again is the identity change someone else who took over the
// account would make.
func (c *Client) ResetIdentity(ctx context.Context) error {
	mach := c.helper.Machine()
	uia := func(resp *mautrix.RespUserInteractive) any {
		return &mautrix.ReqUIAuthLogin{
			BaseAuthData: mautrix.BaseAuthData{Type: mautrix.AuthTypePassword, Session: resp.Session},
			User:         c.cli.UserID.String(), Password: c.password,
		}
	}
	key, _, err := mach.GenerateAndUploadCrossSigningKeys(ctx, uia, "")
	if err != nil {
		return fmt.Errorf("testenv: cross-signing keys for %s: %w", c.cli.UserID, err)
	}
	if err := mach.SignOwnDevice(ctx, mach.OwnIdentity()); err != nil {
		return fmt.Errorf("testenv: signing the device of %s: %w", c.cli.UserID, err)
	}
	if err := mach.SignOwnMasterKey(ctx); err != nil {
		return fmt.Errorf("testenv: signing the master key of %s: %w", c.cli.UserID, err)
	}
	c.mu.Lock()
	c.recoveryKey = key
	c.mu.Unlock()
	return nil
}

// RecoveryKey is the key that unlocks the user's identity kept on the homeserver
// (secret storage), as Element shows it once at set-up: entered in Element's "verify
// this device" dialog, it lets another login sign itself. Empty for an Unverified
// client.
func (c *Client) RecoveryKey() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.recoveryKey
}

// SecondDevice logs the same user in on another device, with a crypto store of its
// own, left unverified: what someone who phished the password would have.
func (c *Client) SecondDevice(tb testing.TB) *Client {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	d, err := NewClient(ctx, tb, c.cli.HomeserverURL.String(), c.cli.UserID, c.password, PG(tb).NewDatabase(tb), Unverified())
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

// VerifyWithRecoveryKey does what Element's "verify with recovery key" does on a new
// login: it unlocks the user's identity from secret storage and signs this device.
func (c *Client) VerifyWithRecoveryKey(ctx context.Context, key string) error {
	if err := c.helper.Machine().VerifyWithRecoveryKey(ctx, key); err != nil {
		return fmt.Errorf("testenv: %s verifying with the recovery key: %w", c.cli.UserID, err)
	}
	return nil
}
