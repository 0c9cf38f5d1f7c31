package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"switchboard/bot"
)

type personRow struct {
	ID         int64  `db:"id"`
	Platform   string `db:"platform"`
	ExternalID string `db:"external_id"`
	Language   string `db:"language"`
}

func (r personRow) person() bot.Person {
	return bot.Person{ID: r.ID, Platform: bot.Platform(r.Platform), ExternalID: r.ExternalID, Language: r.Language}
}

// Person finds or creates a person. The no-op update takes the row lock, which
// serialises one person's concurrent messages.
func (t *Tx) Person(ctx context.Context, platform bot.Platform, externalID string, now time.Time) (_ bot.Person, err error) {
	defer wrap(&err, "load or create person %s:%s", platform, externalID)
	var r personRow
	err = t.tx.GetContext(ctx, &r, `INSERT INTO people (platform, external_id, created_at) VALUES ($1, $2, $3)
		ON CONFLICT (platform, external_id) DO UPDATE SET platform = EXCLUDED.platform
		RETURNING id, platform, external_id, language`, platform, externalID, ms(now))
	return r.person(), err
}

// PersonUnlessBlocked creates or loads and locks a person, in the same statement as
// the block check; for a blocked sender nothing is created or returned.
func (t *Tx) PersonUnlessBlocked(ctx context.Context, platform bot.Platform, externalID string, now time.Time) (_ bot.Person, _ bool, err error) {
	defer wrap(&err, "load or create person %s:%s", platform, externalID)
	var r personRow
	err = t.tx.GetContext(ctx, &r, `INSERT INTO people (platform, external_id, created_at)
		SELECT $1, $2, $3 WHERE NOT EXISTS (SELECT 1 FROM blocks WHERE platform = $1 AND external_id = $2
			AND (until = 0 OR until > $3))
		ON CONFLICT (platform, external_id) DO UPDATE SET platform = EXCLUDED.platform
		RETURNING id, platform, external_id, language`, platform, externalID, ms(now))
	if errors.Is(err, sql.ErrNoRows) {
		return bot.Person{Platform: platform, ExternalID: externalID}, true, nil
	}
	return r.person(), false, err
}

// PersonByID loads and locks a person.
func (t *Tx) PersonByID(ctx context.Context, id int64) (_ bot.Person, err error) {
	defer wrap(&err, "load person %d", id)
	var r personRow
	err = t.tx.GetContext(ctx, &r, `SELECT id, platform, external_id, language FROM people WHERE id = $1 FOR UPDATE`, id)
	return r.person(), err
}

// SetLanguage records the language a person asked to be helped in.
func (t *Tx) SetLanguage(ctx context.Context, personID int64, lang string) (err error) {
	defer wrap(&err, "set the language of person %d", personID)
	_, err = t.tx.ExecContext(ctx, `UPDATE people SET language = $2 WHERE id = $1`, personID, lang)
	return err
}

// FindPerson loads a person without creating one; ok is false if unknown.
func (t *Tx) FindPerson(ctx context.Context, platform bot.Platform, externalID string) (_ bot.Person, _ bool, err error) {
	defer wrap(&err, "find person %s:%s", platform, externalID)
	var r personRow
	err = t.tx.GetContext(ctx, &r, `SELECT id, platform, external_id, language FROM people
		WHERE platform = $1 AND external_id = $2`, platform, externalID)
	if errors.Is(err, sql.ErrNoRows) {
		return bot.Person{Platform: platform, ExternalID: externalID}, false, nil
	}
	return r.person(), err == nil, err
}

// PersonRef loads a person without locking the row.
func (t *Tx) PersonRef(ctx context.Context, id int64) (_ bot.Person, err error) {
	defer wrap(&err, "load person %d", id)
	var r personRow
	err = t.tx.GetContext(ctx, &r, `SELECT id, platform, external_id, language FROM people WHERE id = $1`, id)
	return r.person(), err
}

// SetKnownName records the wiki name a person most likely has, lower-cased: names are
// compared case-insensitively after MediaWiki normalisation.
func (t *Tx) SetKnownName(ctx context.Context, personID int64, name string) (err error) {
	defer wrap(&err, "set the known name of person %d", personID)
	name = strings.ToLower(name)
	_, err = t.tx.ExecContext(ctx, `UPDATE people SET known_name = $2, known_key = $3 WHERE id = $1 AND known_key <> $3`,
		personID, name, t.k.nameHash(name))
	return err
}
