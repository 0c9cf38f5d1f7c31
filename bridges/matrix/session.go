package matrix

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"switchboard/store"
)

// login restores the stored session, or logs in and stores it. The device ID is kept
// for ever: a new device on every start would break every encrypted room.
func (b *Bridge) login(ctx context.Context) error {
	sess, err := b.store.LoadSession(ctx, b.cfg.UserID.String())
	if err != nil {
		return err
	}
	if sess != nil {
		b.cli.AccessToken, b.cli.DeviceID = sess.AccessToken, id.DeviceID(sess.DeviceID)
		who, err := b.cli.Whoami(ctx)
		switch {
		case err == nil && who.DeviceID == b.cli.DeviceID:
			return nil
		case err == nil:
			return fmt.Errorf("stored access token belongs to device %s, not %s", who.DeviceID, sess.DeviceID)
		case !errors.Is(err, mautrix.MUnknownToken):
			return err
		case b.cfg.Password == "":
			return fmt.Errorf("stored access token was revoked and no password is configured: %w", err)
		}
		b.log.Warn().Msg("Stored access token was revoked; logging in again on the same device")
	}
	if b.cfg.Password == "" {
		b.cli.AccessToken = b.cfg.AccessToken
		who, err := b.cli.Whoami(ctx)
		if err != nil {
			return fmt.Errorf("access token: %w", err)
		}
		b.cli.DeviceID = who.DeviceID
	} else {
		req := &mautrix.ReqLogin{
			Type:                     mautrix.AuthTypePassword,
			Identifier:               mautrix.UserIdentifier{Type: mautrix.IdentifierTypeUser, User: b.cfg.UserID.String()},
			Password:                 b.cfg.Password,
			InitialDeviceDisplayName: b.cfg.DeviceName,
			StoreCredentials:         true,
		}
		if sess != nil {
			req.DeviceID = id.DeviceID(sess.DeviceID)
		}
		if _, err := b.cli.Login(ctx, req); err != nil {
			return fmt.Errorf("password login: %w", err)
		}
	}
	return b.store.SaveSession(ctx, store.Session{
		UserID: b.cfg.UserID.String(), DeviceID: b.cli.DeviceID.String(), AccessToken: b.cli.AccessToken,
	})
}

// seal and unseal protect the cross-signing recovery key at rest with the pickle key,
// so a database dump alone does not give away the bot's identity.
func sealKey(pickleKey []byte) cipher.AEAD {
	k := sha256.Sum256(append([]byte("switchboard recovery key\x00"), pickleKey...))
	block, _ := aes.NewCipher(k[:])
	gcm, _ := cipher.NewGCM(block)
	return gcm
}

func seal(pickleKey []byte, plain string) []byte {
	gcm := sealKey(pickleKey)
	nonce := make([]byte, gcm.NonceSize())
	_, _ = rand.Read(nonce)
	return gcm.Seal(nonce, nonce, []byte(plain), nil)
}

func unseal(pickleKey, sealed []byte) (string, error) {
	gcm := sealKey(pickleKey)
	if len(sealed) < gcm.NonceSize() {
		return "", errors.New("sealed recovery key is too short")
	}
	plain, err := gcm.Open(nil, sealed[:gcm.NonceSize()], sealed[gcm.NonceSize():], nil)
	if err != nil {
		return "", errors.New("cannot open the stored recovery key: was encryption.pickle-key changed?")
	}
	return string(plain), nil
}

// crossSign makes the bot's device verified by its owner, so Element shows its messages
// without a warning and clients that only talk to cross-signed devices (MSC4153) still
// send it room keys. First start: keys are created, uploaded, backed up in secret
// storage, and the recovery key is sealed into the database. Later starts: the device
// is re-signed from the stored recovery key if it is not signed any more.
func (b *Bridge) crossSign(ctx context.Context) error {
	mach := b.helper.Machine()
	sess, err := b.store.LoadSession(ctx, b.cfg.UserID.String())
	if err != nil {
		return err
	}
	if sess != nil && sess.RecoveryKey != nil {
		if _, verified, err := mach.GetOwnVerificationStatus(ctx); err == nil && verified {
			return nil
		}
		rk, err := unseal(b.cfg.PickleKey, sess.RecoveryKey)
		if err != nil {
			return err
		}
		if err := mach.VerifyWithRecoveryKey(ctx, rk); err != nil {
			return fmt.Errorf("re-signing the device: %w", err)
		}
		b.log.Info().Msg("Device re-signed with the stored recovery key")
		return nil
	}
	var uia mautrix.UIACallback
	if b.cfg.Password != "" {
		uia = func(resp *mautrix.RespUserInteractive) any {
			return &mautrix.ReqUIAuthLogin{
				BaseAuthData: mautrix.BaseAuthData{Type: mautrix.AuthTypePassword, Session: resp.Session},
				User:         b.cfg.UserID.String(), Password: b.cfg.Password,
			}
		}
	}
	rk, _, err := mach.GenerateAndUploadCrossSigningKeys(ctx, uia, "")
	if rk != "" {
		// Keep the key even if a later step failed: the keys may be on the server already.
		if serr := b.store.SaveRecoveryKey(ctx, b.cfg.UserID.String(), seal(b.cfg.PickleKey, rk)); serr != nil {
			return serr
		}
	}
	if err != nil {
		return fmt.Errorf("creating cross-signing keys: %w", err)
	}
	if err := mach.SignOwnDevice(ctx, mach.OwnIdentity()); err != nil {
		return fmt.Errorf("signing the device: %w", err)
	}
	if err := mach.SignOwnMasterKey(ctx); err != nil {
		return fmt.Errorf("signing the master key: %w", err)
	}
	b.log.Info().Msg("Cross-signing set up; recovery key sealed in the database")
	return nil
}
