package store

import (
	"context"

	"github.com/lib/pq"

	"switchboard/bot"
)

// fillNameKeys computes the comparison keys (bot.NameKey) of names stored before keys
// existed. Only Go computes keys, so a migration cannot; this runs at every start and
// finds nothing to do once the rows are filled.
func (s *Store) fillNameKeys(ctx context.Context) (err error) {
	defer wrap(&err, "fill in name keys")
	tx, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	var cases []struct {
		ID      int64          `db:"id"`
		Parties pq.StringArray `db:"parties"`
	}
	if err := tx.SelectContext(ctx, &cases, `SELECT id, parties FROM cases WHERE party_keys = '{}' AND parties <> '{}'`); err != nil {
		return err
	}
	for _, c := range cases {
		if _, err := tx.ExecContext(ctx, `UPDATE cases SET party_keys = $2 WHERE id = $1`, c.ID, pq.StringArray(bot.NameKeys(c.Parties))); err != nil {
			return err
		}
	}
	for _, q := range []struct{ sel, upd string }{
		{`SELECT id::text, wiki_username FROM volunteers WHERE wiki_key = '' AND wiki_username <> ''`, `UPDATE volunteers SET wiki_key = $2 WHERE id = $1::bigint`},
		{`SELECT id::text, known_name FROM people WHERE known_key = '' AND known_name <> ''`, `UPDATE people SET known_key = $2 WHERE id = $1::bigint`},
		{`SELECT volunteer_id::text || ' ' || username, username FROM conflicts WHERE name_key = ''`,
			`UPDATE conflicts SET name_key = $2 WHERE volunteer_id::text || ' ' || username = $1`},
	} {
		var rows []struct {
			ID   string `db:"id"`
			Name string `db:"name"`
		}
		if err := tx.SelectContext(ctx, &rows, `SELECT k AS id, n AS name FROM (`+q.sel+`) AS t (k, n)`); err != nil {
			return err
		}
		for _, r := range rows {
			if _, err := tx.ExecContext(ctx, q.upd, r.ID, bot.NameKey(r.Name)); err != nil {
				return err
			}
		}
	}
	return tx.Commit()
}
