package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// sealedColumns are the columns that hold case content, people's words or a secret,
// sealed by Keys (the associated data is "table.column"). Everything that writes or
// reads them goes through Keys; sealAtRest brings rows written before (or under a
// retired key) in line at start.
var sealedColumns = []struct {
	table, column string
	array         bool
}{
	{"cases", "description", false},
	{"cases", "parties", true},
	{"cases", "project", false},
	{"cases", "feedback_comment", false},
	{"intakes", "description", false},
	{"intakes", "parties", true},
	{"intakes", "project", false},
	{"case_additions", "text", false},
	{"case_notes", "text", false},
	{"intake_waitlist", "opening", false},
	{"blocks", "reason", false},
	{"conflicts", "username", false},
	{"outbox", "plain", false},
	{"outbox", "markdown", false},
	{"outbox", "payload", false},
	{"matrix_session", "access_token", false},
	{"audit_texts", "text", false},
}

// sealAtRest runs at every start, in one transaction, before anything reads the
// database:
//
//   - the first time (the database's rows were written in clear by an older version),
//     it seals every value of sealedColumns;
//   - after a key change, it seals again under the current key every value sealed
//     under a retired one (rotation), and refuses to start on a value sealed under a
//     key it does not have, rather than serve it as text;
//   - when the name hashes are not under the current key (the first time, or after a
//     key change), it computes them all again from the names. Only Go holds the key,
//     so a migration cannot do either.
//
// data_key_state remembers which key the name hashes are under ("" before the first
// time). Once everything is current, this is one cheap scan per column.
func (s *Store) sealAtRest(ctx context.Context) (err error) {
	defer wrap(&err, "seal stored content")
	tx, err := s.DB.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	var hashedUnder string
	if err := tx.GetContext(ctx, &hashedUnder, `SELECT name_key_id FROM data_key_state FOR UPDATE`); err != nil {
		return err
	}
	first := hashedUnder == ""
	for _, c := range sealedColumns {
		if err := s.sealColumn(ctx, tx, c.table, c.column, c.array, first); err != nil {
			return fmt.Errorf("%s.%s: %w", c.table, c.column, err)
		}
	}
	if hashedUnder != s.keys.ID() {
		if err := s.hashNames(ctx, tx); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE data_key_state SET name_key_id = $1`, s.keys.ID()); err != nil {
			return err
		}
		if !first {
			s.log.Info().Str("key_id", s.keys.ID()).Msg("Name hashes computed again under the current data key")
		}
	}
	return tx.Commit()
}

func (s *Store) sealColumn(ctx context.Context, tx *sqlx.Tx, table, column string, array, first bool) error {
	aad := table + "." + column
	// Rows to do: every non-empty value the first time; later, those not under the
	// current key. The ctid names a row whatever its key, and does not move here: each
	// row is updated once, in this transaction, after it was locked.
	q := `SELECT ctid::text AS id, ` + column + ` AS val FROM ` + table +
		` WHERE ` + column + ` <> '' AND ($1 OR ` + column + ` NOT LIKE $2) FOR UPDATE`
	if array {
		q = `SELECT ctid::text AS id, ` + column + `::text AS val FROM ` + table +
			` WHERE EXISTS (SELECT 1 FROM unnest(` + column + `) v WHERE v <> '' AND ($1 OR v NOT LIKE $2)) FOR UPDATE`
	}
	var rows []struct {
		ID  string `db:"id"`
		Val string `db:"val"`
	}
	if err := tx.SelectContext(ctx, &rows, q, first, sealVersion+s.keys.ID()+":%"); err != nil {
		return err
	}
	for _, r := range rows {
		var val any
		if array {
			var arr pq.StringArray
			if err := arr.Scan([]byte(r.Val)); err != nil {
				return err
			}
			out := make([]string, len(arr))
			for i, v := range arr {
				var err error
				if out[i], err = s.keys.reseal(aad, v, first); err != nil {
					return err
				}
			}
			val = pq.StringArray(out)
		} else {
			v, err := s.keys.reseal(aad, r.Val, first)
			if err != nil {
				return err
			}
			val = v
		}
		if _, err := tx.ExecContext(ctx, `UPDATE `+table+` SET `+column+` = $2 WHERE ctid = $1::tid`, r.ID, val); err != nil {
			return err
		}
	}
	if len(rows) > 0 && !first {
		s.log.Info().Str("column", aad).Int("rows", len(rows)).Msg("Sealed stored values again under the current data key")
	}
	return nil
}

// reseal returns v sealed under the current key. The first time every value is clear
// text (whatever it looks like). Later a value is either sealed (under the current key,
// or a retired one) or clear text a migration moved in since (it does not parse as a
// sealed value); one that parses but under a key not configured stops the start.
func (k *Keys) reseal(column, v string, first bool) (string, error) {
	if v == "" {
		return "", nil
	}
	if !first {
		if _, _, ok := parseSealed(v); ok {
			plain, err := k.open(column, v)
			if err != nil {
				return "", err
			}
			return k.seal(column, plain), nil
		}
	}
	return k.seal(column, v), nil
}

// hashNames computes every stored name hash under the current key: the parties of
// cases, volunteers' wiki names, their declared conflicts, and requesters' likely
// names.
func (s *Store) hashNames(ctx context.Context, tx *sqlx.Tx) error {
	var cases []struct {
		ID      int64          `db:"id"`
		Parties pq.StringArray `db:"parties"`
	}
	if err := tx.SelectContext(ctx, &cases, `SELECT id, parties FROM cases WHERE parties <> '{}' OR party_keys <> '{}'`); err != nil {
		return err
	}
	for _, c := range cases {
		names, err := s.keys.openAll("cases.parties", c.Parties)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE cases SET party_keys = $2 WHERE id = $1`, c.ID, pq.StringArray(s.keys.nameHashes(names))); err != nil {
			return err
		}
	}
	var conflicts []struct {
		ID   string `db:"id"`
		Name string `db:"username"`
	}
	if err := tx.SelectContext(ctx, &conflicts, `SELECT ctid::text AS id, username FROM conflicts`); err != nil {
		return err
	}
	for _, c := range conflicts {
		name, err := s.keys.open("conflicts.username", c.Name)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE conflicts SET name_key = $2 WHERE ctid = $1::tid`, c.ID, s.keys.nameHash(name)); err != nil {
			return err
		}
	}
	for _, q := range []struct{ sel, upd string }{
		{`SELECT id, wiki_username AS name FROM volunteers WHERE wiki_username <> '' OR wiki_key <> ''`, `UPDATE volunteers SET wiki_key = $2 WHERE id = $1`},
		{`SELECT id, known_name AS name FROM people WHERE known_name <> '' OR known_key <> ''`, `UPDATE people SET known_key = $2 WHERE id = $1`},
	} {
		var rows []struct {
			ID   int64  `db:"id"`
			Name string `db:"name"`
		}
		if err := tx.SelectContext(ctx, &rows, q.sel); err != nil {
			return err
		}
		for _, r := range rows {
			if _, err := tx.ExecContext(ctx, q.upd, r.ID, s.keys.nameHash(r.Name)); err != nil {
				return err
			}
		}
	}
	return nil
}

// errNoKeys: a store must be opened with a data key.
var errNoKeys = errors.New("store: no data key: set encryption.data-key (or encryption.data-key-file)")
