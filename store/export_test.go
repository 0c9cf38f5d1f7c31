package store

import (
	"context"
	"time"

	"github.com/lib/pq"

	"switchboard/bot"
)

// OpenSealed opens a value read straight from a sealed column ("table.column"), for
// tests that look into the database.
func (s *Store) OpenSealed(column, v string) (string, error) { return s.keys.open(column, v) }

// NameHash is the hash SQL compares for a name.
func (s *Store) NameHash(name string) string { return s.keys.nameHash(name) }

// SealedColumns names the sealed columns ("table.column"), and for each the SQL of
// its values, one a row ("v").
func SealedColumns() map[string]string {
	out := map[string]string{}
	for _, c := range sealedColumns {
		v := `(SELECT ` + c.column + ` AS v FROM ` + c.table + `) t`
		if c.array {
			v = `(SELECT unnest(` + c.column + `) AS v FROM ` + c.table + `) t`
		}
		out[c.table+"."+c.column] = v
	}
	return out
}

// Unseal puts the database back as a version before sealing left it: every sealed
// value in clear, names compared by their clear key, nothing sealed yet.
func (s *Store) Unseal(ctx context.Context) error {
	tx, err := s.DB.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	for _, c := range sealedColumns {
		var rows []struct {
			ID  string `db:"id"`
			Val string `db:"val"`
		}
		if err := tx.SelectContext(ctx, &rows, `SELECT ctid::text AS id, `+c.column+`::text AS val FROM `+c.table+
			` WHERE `+c.column+` IS NOT NULL`); err != nil {
			return err
		}
		aad := c.table + "." + c.column
		for _, r := range rows {
			var val any
			if c.array {
				var arr pq.StringArray
				if err := arr.Scan([]byte(r.Val)); err != nil {
					return err
				}
				clear, err := s.keys.openAll(aad, arr)
				if err != nil {
					return err
				}
				val = pq.StringArray(clear)
			} else {
				clear, err := s.keys.open(aad, r.Val)
				if err != nil {
					return err
				}
				val = clear
			}
			if _, err := tx.ExecContext(ctx, `UPDATE `+c.table+` SET `+c.column+` = $2 WHERE ctid = $1::tid`, r.ID, val); err != nil {
				return err
			}
		}
	}
	var cases []struct {
		ID      int64          `db:"id"`
		Parties pq.StringArray `db:"parties"`
	}
	if err := tx.SelectContext(ctx, &cases, `SELECT id, parties FROM cases`); err != nil {
		return err
	}
	for _, c := range cases {
		if _, err := tx.ExecContext(ctx, `UPDATE cases SET party_keys = $2 WHERE id = $1`, c.ID, pq.StringArray(bot.NameKeys(c.Parties))); err != nil {
			return err
		}
	}
	for _, q := range []string{
		`UPDATE conflicts SET name_key = '' WHERE true`, // as before 09: filled in at start
		`UPDATE volunteers SET wiki_key = lower(wiki_username)`,
		`UPDATE people SET known_key = known_name`,
		`UPDATE data_key_state SET name_key_id = ''`,
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// RoomActions is the store's SQL list of the outbox actions that never expire.
const RoomActions = roomActions

// OnShift works out who is on shift at now, as a routing decision would, bypassing
// the cache.
func (s *Store) OnShift(ctx context.Context, now time.Time) (ids []int64, err error) {
	err = s.InTx(ctx, func(tx bot.Tx) error {
		list, _, _, err := tx.(*Tx).onShift(ctx, ms(now)/60000, true)
		ids = list
		return err
	})
	return ids, err
}
