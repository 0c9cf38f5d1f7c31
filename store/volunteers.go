package store

import (
	"context"
	"database/sql"
	"errors"
	"sort"
	"time"

	"github.com/lib/pq"

	"switchboard/bot"
)

type volunteerRow struct {
	ID           int64          `db:"id"`
	UserID       string         `db:"user_id"`
	WikiUsername string         `db:"wiki_username"`
	Status       string         `db:"status"`
	MentorID     sql.NullInt64  `db:"mentor_id"`
	Languages    pq.StringArray `db:"languages"`
	CaseLimit    int            `db:"case_limit"`
	OnUntil      int64          `db:"on_until"`
	OffUntil     int64          `db:"off_until"`
	DMRoom       string         `db:"dm_room"`
	LastOfferAt  int64          `db:"last_offer_at"`
}

const volunteerColumns = `id, user_id, wiki_username, status, mentor_id, languages, case_limit, on_until,
	off_until, dm_room, last_offer_at`

func (r volunteerRow) volunteer() *bot.Volunteer {
	return &bot.Volunteer{
		ID: r.ID, UserID: r.UserID, WikiUsername: r.WikiUsername, Status: bot.VolunteerStatus(r.Status),
		MentorID: r.MentorID.Int64, Languages: nonNil([]string(r.Languages)), CaseLimit: r.CaseLimit,
		OnUntil: fromMS(r.OnUntil), OffUntil: fromMS(r.OffUntil), DMRoom: r.DMRoom, LastOfferAt: fromMS(r.LastOfferAt),
	}
}

func (t *Tx) getVolunteer(ctx context.Context, where string, arg any) (*bot.Volunteer, error) {
	var r volunteerRow
	err := t.tx.GetContext(ctx, &r, `SELECT `+volunteerColumns+` FROM volunteers WHERE `+where+` FOR UPDATE`, arg)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return r.volunteer(), nil
}

// Volunteer loads and locks a volunteer by Matrix ID, or nil.
func (t *Tx) Volunteer(ctx context.Context, userID string) (_ *bot.Volunteer, err error) {
	defer wrap(&err, "load volunteer %s", userID)
	return t.getVolunteer(ctx, `user_id = $1`, userID)
}

// VolunteerByID loads and locks a volunteer, or nil.
func (t *Tx) VolunteerByID(ctx context.Context, id int64) (_ *bot.Volunteer, err error) {
	defer wrap(&err, "load volunteer %d", id)
	return t.getVolunteer(ctx, `id = $1`, id)
}

// SaveVolunteer inserts (ID 0) or updates a volunteer.
func (t *Tx) SaveVolunteer(ctx context.Context, v *bot.Volunteer, now time.Time) (err error) {
	defer wrap(&err, "save volunteer %s", v.UserID)
	args := []any{v.UserID, v.WikiUsername, v.Status, nullID(v.MentorID), pq.StringArray(nonNil(v.Languages)),
		v.CaseLimit, ms0(v.OnUntil), ms0(v.OffUntil), v.DMRoom, ms0(v.LastOfferAt), ms(now), t.k.nameHash(v.WikiUsername)}
	if v.ID == 0 {
		return t.tx.QueryRowxContext(ctx, `INSERT INTO volunteers (user_id, wiki_username, status, mentor_id, languages,
			case_limit, on_until, off_until, dm_room, last_offer_at, created_at, updated_at, wiki_key)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $12) RETURNING id`, args...).Scan(&v.ID)
	}
	_, err = t.tx.ExecContext(ctx, `UPDATE volunteers SET user_id = $1, wiki_username = $2, status = $3,
		mentor_id = $4, languages = $5, case_limit = $6, on_until = $7, off_until = $8, dm_room = $9,
		last_offer_at = $10, updated_at = $11, wiki_key = $12 WHERE id = $13`, append(args, v.ID)...)
	return err
}

// ms0 keeps the zero time as 0 rather than a negative number of milliseconds.
func ms0(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// Volunteers lists everyone on the roster who was not removed, by Matrix ID.
func (t *Tx) Volunteers(ctx context.Context) (_ []bot.Volunteer, err error) {
	defer wrap(&err, "list volunteers")
	var rows []volunteerRow
	if err := t.tx.SelectContext(ctx, &rows, `SELECT `+volunteerColumns+` FROM volunteers
		WHERE status <> 'removed' ORDER BY user_id`); err != nil {
		return nil, err
	}
	out := make([]bot.Volunteer, len(rows))
	for i, r := range rows {
		out[i] = *r.volunteer()
	}
	return out, nil
}

// ActiveLoad counts the cases a volunteer holds now (offered, accepted or active).
func (t *Tx) ActiveLoad(ctx context.Context, volunteerID int64) (_ int, err error) {
	defer wrap(&err, "count the cases of volunteer %d", volunteerID)
	var n int
	err = t.tx.GetContext(ctx, &n, `SELECT count(*) FROM cases WHERE volunteer_id = $1
		AND state IN ('offered', 'accepted', 'active')`, volunteerID)
	return n, err
}

type shiftRow struct {
	ID          int64  `db:"id"`
	VolunteerID int64  `db:"volunteer_id"`
	Weekday     int    `db:"weekday"`
	Start       int    `db:"start_min"`
	End         int    `db:"end_min"`
	TZ          string `db:"tz"`
}

func (r shiftRow) shift() bot.Shift {
	return bot.Shift{ID: r.ID, VolunteerID: r.VolunteerID, Weekday: time.Weekday(r.Weekday), Start: r.Start, End: r.End, TZ: r.TZ}
}

// Shifts lists a volunteer's shifts in a stable order (the numbers !shift list shows).
func (t *Tx) Shifts(ctx context.Context, volunteerID int64) (_ []bot.Shift, err error) {
	defer wrap(&err, "list the shifts of volunteer %d", volunteerID)
	var rows []shiftRow
	if err := t.tx.SelectContext(ctx, &rows, `SELECT id, volunteer_id, weekday, start_min, end_min, tz FROM shifts
		WHERE volunteer_id = $1 ORDER BY weekday, start_min, id`, volunteerID); err != nil {
		return nil, err
	}
	out := make([]bot.Shift, len(rows))
	for i, r := range rows {
		out[i] = r.shift()
	}
	return out, nil
}

// AddShift stores a shift.
func (t *Tx) AddShift(ctx context.Context, s bot.Shift) (err error) {
	defer wrap(&err, "add a shift for volunteer %d", s.VolunteerID)
	_, err = t.tx.ExecContext(ctx, `INSERT INTO shifts (volunteer_id, weekday, start_min, end_min, tz)
		VALUES ($1, $2, $3, $4, $5)`, s.VolunteerID, int(s.Weekday), s.Start, s.End, s.TZ)
	return err
}

// DeleteShift removes one of a volunteer's shifts.
func (t *Tx) DeleteShift(ctx context.Context, volunteerID, shiftID int64) (err error) {
	defer wrap(&err, "delete shift %d", shiftID)
	_, err = t.tx.ExecContext(ctx, `DELETE FROM shifts WHERE id = $1 AND volunteer_id = $2`, shiftID, volunteerID)
	return err
}

// Conflicts lists the wiki usernames a volunteer declared a conflict with.
func (t *Tx) Conflicts(ctx context.Context, volunteerID int64) (_ []string, err error) {
	defer wrap(&err, "list the conflicts of volunteer %d", volunteerID)
	var sealed []string
	if err := t.tx.SelectContext(ctx, &sealed, `SELECT username FROM conflicts WHERE volunteer_id = $1`, volunteerID); err != nil {
		return nil, err
	}
	out, err := t.k.openAll("conflicts.username", sealed)
	if err != nil {
		return nil, err
	}
	sort.Strings(out) // sealed, they cannot be ordered in SQL
	return out, nil
}

// SetConflict adds (on) or removes a declared conflict; it reports whether anything changed.
func (t *Tx) SetConflict(ctx context.Context, volunteerID int64, username string, on bool) (_ bool, err error) {
	defer wrap(&err, "set a conflict of volunteer %d", volunteerID)
	var res sql.Result
	if on {
		// One row a person, however the name was spelt: the key decides.
		res, err = t.tx.ExecContext(ctx, `INSERT INTO conflicts (volunteer_id, username, name_key) SELECT $1, $2, $3
			WHERE NOT EXISTS (SELECT 1 FROM conflicts WHERE volunteer_id = $1 AND name_key = $3)
			ON CONFLICT DO NOTHING`, volunteerID, t.k.seal("conflicts.username", username), t.k.nameHash(username))
	} else {
		res, err = t.tx.ExecContext(ctx, `DELETE FROM conflicts WHERE volunteer_id = $1 AND name_key = $2`, volunteerID, t.k.nameHash(username))
	}
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}
