package store

import (
	"context"
	"database/sql"
	"errors"
)

// Session is the Matrix login the bot reuses on every start.
type Session struct {
	UserID      string `db:"user_id"`
	DeviceID    string `db:"device_id"`
	AccessToken string `db:"access_token"`
	// RecoveryKey is sealed (see bridges/matrix); nil until cross-signing is set up.
	RecoveryKey []byte `db:"recovery_key"`
}

// LoadSession returns the stored session of userID, or nil.
func (s *Store) LoadSession(ctx context.Context, userID string) (_ *Session, err error) {
	defer wrap(&err, "load the session of %s", userID)
	var sess Session
	err = s.DB.GetContext(ctx, &sess, `SELECT user_id, device_id, access_token, recovery_key FROM matrix_session
		WHERE user_id = $1`, userID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if sess.AccessToken, err = s.keys.open("matrix_session.access_token", sess.AccessToken); err != nil {
		return nil, err
	}
	return &sess, nil
}

// SaveSession stores the device and token (sealed: whoever reads it is the bot),
// keeping a recovery key already stored.
func (s *Store) SaveSession(ctx context.Context, sess Session) (err error) {
	defer wrap(&err, "save the session of %s", sess.UserID)
	_, err = s.exec(ctx, `INSERT INTO matrix_session (user_id, device_id, access_token) VALUES ($1, $2, $3)
		ON CONFLICT (user_id) DO UPDATE SET device_id = EXCLUDED.device_id, access_token = EXCLUDED.access_token`,
		sess.UserID, sess.DeviceID, s.keys.seal("matrix_session.access_token", sess.AccessToken))
	return err
}

// SaveRecoveryKey stores the sealed cross-signing recovery key.
func (s *Store) SaveRecoveryKey(ctx context.Context, userID string, sealed []byte) (err error) {
	defer wrap(&err, "save the recovery key of %s", userID)
	_, err = s.exec(ctx, `UPDATE matrix_session SET recovery_key = $2 WHERE user_id = $1`, userID, sealed)
	return err
}

// SyncPosition is where an account's /sync stands.
func (s *Store) SyncPosition(ctx context.Context, account string) (nextBatch, filterID string, err error) {
	defer wrap(&err, "load the sync position of %s", account)
	err = s.DB.QueryRowContext(ctx, `SELECT next_batch, filter_id FROM sync_state WHERE account = $1`, account).
		Scan(&nextBatch, &filterID)
	if errors.Is(err, sql.ErrNoRows) {
		err = nil
	}
	return
}

// SaveNextBatch advances the sync position; called only after a batch is processed.
func (s *Store) SaveNextBatch(ctx context.Context, account, nextBatch string) (err error) {
	defer wrap(&err, "save the sync position of %s", account)
	return s.retry(ctx, "save sync position", func() error {
		_, err := s.exec(ctx, `INSERT INTO sync_state (account, next_batch) VALUES ($1, $2)
			ON CONFLICT (account) DO UPDATE SET next_batch = EXCLUDED.next_batch`, account, nextBatch)
		return err
	})
}

// SaveFilterID remembers the /sync filter.
func (s *Store) SaveFilterID(ctx context.Context, account, filterID string) (err error) {
	defer wrap(&err, "save the filter of %s", account)
	_, err = s.exec(ctx, `INSERT INTO sync_state (account, filter_id) VALUES ($1, $2)
		ON CONFLICT (account) DO UPDATE SET filter_id = EXCLUDED.filter_id`, account, filterID)
	return err
}
