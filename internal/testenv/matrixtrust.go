package testenv

import (
	"context"
	"fmt"
	"testing"
	"time"

	"maunium.net/go/mautrix"
)

// DialOption changes how Dial sets a client up.
type DialOption func(*dialOpts)

type dialOpts struct{ unverified bool }

// Unverified leaves the new device unsigned, as a second login of a user who never
// verified it (a phished password, say): the user's identity, if they have one,
// does not vouch for it.
func Unverified() DialOption { return func(o *dialOpts) { o.unverified = true } }

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
	if _, _, err := mach.GenerateAndUploadCrossSigningKeys(ctx, uia, ""); err != nil {
		return fmt.Errorf("testenv: cross-signing keys for %s: %w", c.cli.UserID, err)
	}
	if err := mach.SignOwnDevice(ctx, mach.OwnIdentity()); err != nil {
		return fmt.Errorf("testenv: signing the device of %s: %w", c.cli.UserID, err)
	}
	if err := mach.SignOwnMasterKey(ctx); err != nil {
		return fmt.Errorf("testenv: signing the master key of %s: %w", c.cli.UserID, err)
	}
	return nil
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
