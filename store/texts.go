package store

import (
	"context"
	"slices"

	"switchboard/bot"
)

type textRow struct {
	Name      string `db:"name"`
	Lang      string `db:"lang"`
	Body      string `db:"body"`
	UpdatedBy string `db:"updated_by"`
	UpdatedAt int64  `db:"updated_at"`
}

// Texts lists the library of text modules, or one name's languages, by name and language.
func (t *Tx) Texts(ctx context.Context, name string) (_ []bot.TextModule, err error) {
	defer wrap(&err, "list text modules %q", name)
	var rows []textRow
	if err := t.tx.SelectContext(ctx, &rows, `SELECT name, lang, body, updated_by, updated_at FROM text_modules
		WHERE $1 = '' OR name = $1 ORDER BY name, lang`, name); err != nil {
		return nil, err
	}
	out := make([]bot.TextModule, len(rows))
	for i, r := range rows {
		out[i] = bot.TextModule{Name: r.Name, Lang: r.Lang, Body: r.Body, UpdatedBy: r.UpdatedBy, UpdatedAt: fromMS(r.UpdatedAt)}
	}
	return out, nil
}

// AddText stores a new text module; false when its name has one in that language.
func (t *Tx) AddText(ctx context.Context, m bot.TextModule) (_ bool, err error) {
	defer wrap(&err, "add text module %s (%s)", m.Name, m.Lang)
	res, err := t.tx.ExecContext(ctx, `INSERT INTO text_modules (name, lang, body, updated_by, updated_at)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`, m.Name, m.Lang, m.Body, m.UpdatedBy, ms(m.UpdatedAt))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// EditText replaces a text module's body; false when there is none in that language.
func (t *Tx) EditText(ctx context.Context, m bot.TextModule) (_ bool, err error) {
	defer wrap(&err, "edit text module %s (%s)", m.Name, m.Lang)
	res, err := t.tx.ExecContext(ctx, `UPDATE text_modules SET body = $3, updated_by = $4, updated_at = $5
		WHERE name = $1 AND lang = $2`, m.Name, m.Lang, m.Body, m.UpdatedBy, ms(m.UpdatedAt))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// RemoveText removes a text module in one language, or in all (lang ""), and lists the
// languages removed.
func (t *Tx) RemoveText(ctx context.Context, name, lang string) (_ []string, err error) {
	defer wrap(&err, "remove text module %s (%q)", name, lang)
	var langs []string
	err = t.tx.SelectContext(ctx, &langs, `DELETE FROM text_modules WHERE name = $1 AND ($2 = '' OR lang = $2)
		RETURNING lang`, name, lang)
	slices.Sort(langs)
	return langs, err
}
