package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/lib/pq"

	"switchboard/bot"
)

type caseRow struct {
	ID           int64          `db:"id"`
	Ref          string         `db:"ref"`
	PersonID     int64          `db:"person_id"`
	IntakeID     int64          `db:"intake_id"`
	Route        string         `db:"route"`
	State        string         `db:"state"`
	Harm         sql.NullBool   `db:"q_harm"`
	Minor        sql.NullBool   `db:"q_minor"`
	Illegal      sql.NullBool   `db:"q_illegal"`
	OffWiki      sql.NullBool   `db:"q_offwiki"`
	Description  string         `db:"description"`
	Parties      pq.StringArray `db:"parties"`
	Project      string         `db:"project"`
	Language     string         `db:"language"`
	Conversation string         `db:"conversation"`
	Unidentified bool           `db:"unidentified"`
	VolunteerID  sql.NullInt64  `db:"volunteer_id"`
	MentorID     sql.NullInt64  `db:"mentor_id"`
	RoomID       string         `db:"room_id"`
	RoomAlias    string         `db:"room_alias"`
	QueuedAt     int64          `db:"queued_at"`
	AcceptedAt   int64          `db:"accepted_at"`
	FirstReplyAt int64          `db:"first_reply_at"`
	ClosedAt     int64          `db:"closed_at"`
	CloseReason  string         `db:"close_reason"`
	Rating       sql.NullInt64  `db:"feedback_rating"`
	Comment      string         `db:"feedback_comment"`
	PageRound    int            `db:"page_round"`
	PageStep     int            `db:"page_step"`
	StaffID      string         `db:"staff_id"`
	AckedAt      int64          `db:"acked_at"`
	PurgedAt     int64          `db:"purged_at"`
	Relayed      bool           `db:"relayed"`
	CreatedAt    int64          `db:"created_at"`
	UpdatedAt    int64          `db:"updated_at"`
}

const caseColumns = `id, ref, person_id, intake_id, route, state, q_harm, q_minor, q_illegal, q_offwiki,
	description, parties, project, language, conversation, unidentified, created_at, updated_at,
	volunteer_id, mentor_id, room_id, room_alias, queued_at, accepted_at, first_reply_at, closed_at,
	close_reason, feedback_rating, feedback_comment, page_round, page_step, staff_id, acked_at, purged_at, relayed`

// toCase opens what is sealed in the row.
func (r caseRow) toCase(k *Keys) (_ *bot.Case, err error) {
	defer wrap(&err, "open case %d", r.ID)
	var desc, project, comment string
	var parties []string
	if desc, err = k.open("cases.description", r.Description); err != nil {
		return nil, err
	}
	if parties, err = k.openAll("cases.parties", r.Parties); err != nil {
		return nil, err
	}
	if project, err = k.open("cases.project", r.Project); err != nil {
		return nil, err
	}
	if comment, err = k.open("cases.feedback_comment", r.Comment); err != nil {
		return nil, err
	}
	return &bot.Case{
		ID: r.ID, Ref: r.Ref, PersonID: r.PersonID, IntakeID: r.IntakeID, Route: bot.Route(r.Route),
		State: bot.CaseState(r.State), Description: desc, Parties: parties,
		Project: project, Language: r.Language, Conversation: r.Conversation, Unidentified: r.Unidentified,
		CreatedAt: fromMS(r.CreatedAt), UpdatedAt: fromMS(r.UpdatedAt),
		VolunteerID: r.VolunteerID.Int64, MentorID: r.MentorID.Int64, RoomID: r.RoomID, RoomAlias: r.RoomAlias,
		QueuedAt: fromMS(r.QueuedAt), AcceptedAt: fromMS(r.AcceptedAt), FirstReplyAt: fromMS(r.FirstReplyAt),
		ClosedAt: fromMS(r.ClosedAt), CloseReason: r.CloseReason, FeedbackRating: int(r.Rating.Int64),
		FeedbackComment: comment, PageRound: r.PageRound, PageStep: r.PageStep, StaffID: r.StaffID,
		AckedAt: fromMS(r.AckedAt), PurgedAt: fromMS(r.PurgedAt), Relayed: r.Relayed,
		Safety: bot.Safety{Harm: boolPtr(r.Harm), Minor: boolPtr(r.Minor), Illegal: boolPtr(r.Illegal), OffWiki: boolPtr(r.OffWiki)},
	}, nil
}

// casesOf opens a list of rows.
func (k *Keys) casesOf(rows []caseRow) ([]bot.Case, error) {
	out := make([]bot.Case, len(rows))
	for i, r := range rows {
		c, err := r.toCase(k)
		if err != nil {
			return nil, err
		}
		out[i] = *c
	}
	return out, nil
}

func (t *Tx) getCase(ctx context.Context, where string, arg any) (*bot.Case, error) {
	var r caseRow
	err := t.tx.GetContext(ctx, &r, `SELECT `+caseColumns+` FROM cases WHERE `+where+` FOR UPDATE`, arg)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return r.toCase(t.k)
}

// OpenCase loads and locks the person's open case, or nil.
func (t *Tx) OpenCase(ctx context.Context, personID int64) (_ *bot.Case, err error) {
	defer wrap(&err, "load the open case of person %d", personID)
	return t.getCase(ctx, `person_id = $1 AND state NOT IN ('withdrawn', 'closed')`, personID)
}

// Case loads and locks a case by ID, or nil.
func (t *Tx) Case(ctx context.Context, id int64) (_ *bot.Case, err error) {
	defer wrap(&err, "load case %d", id)
	return t.getCase(ctx, `id = $1`, id)
}

// CaseByRef loads and locks a case by its reference, or nil.
func (t *Tx) CaseByRef(ctx context.Context, ref string) (_ *bot.Case, err error) {
	defer wrap(&err, "load case %s", ref)
	return t.getCase(ctx, `ref = $1`, ref)
}

// CreateCase inserts c under a fresh random reference.
func (t *Tx) CreateCase(ctx context.Context, c *bot.Case) (err error) {
	defer wrap(&err, "create a case for intake %d", c.IntakeID)
	for range 20 {
		c.Ref = bot.NewRef()
		err := t.tx.QueryRowxContext(ctx, `INSERT INTO cases (ref, person_id, intake_id, route, state, q_harm,
			q_minor, q_illegal, q_offwiki, description, parties, project, language, conversation, created_at, updated_at,
			unidentified, queued_at, party_keys)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)
			ON CONFLICT (ref) DO NOTHING RETURNING id`,
			c.Ref, c.PersonID, c.IntakeID, c.Route, c.State, nullBool(c.Safety.Harm), nullBool(c.Safety.Minor),
			nullBool(c.Safety.Illegal), nullBool(c.Safety.OffWiki), t.k.seal("cases.description", c.Description),
			pq.StringArray(t.k.sealAll("cases.parties", nonNil(c.Parties))), t.k.seal("cases.project", c.Project),
			c.Language, c.Conversation, ms(c.CreatedAt), ms(c.UpdatedAt), c.Unidentified, ms0(c.QueuedAt),
			pq.StringArray(t.k.nameHashes(c.Parties))).Scan(&c.ID)
		if errors.Is(err, sql.ErrNoRows) {
			continue // the reference was taken; draw another
		}
		return err
	}
	return fmt.Errorf("no free case reference after 20 draws")
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// UpdateCase writes c if its state is still from.
func (t *Tx) UpdateCase(ctx context.Context, c *bot.Case, from bot.CaseState) (err error) {
	defer wrap(&err, "update case %s from %s to %s", c.Ref, from, c.State)
	res, err := t.tx.ExecContext(ctx, `UPDATE cases SET state = $3, q_harm = $4, q_minor = $5, q_illegal = $6,
		q_offwiki = $7, description = $8, parties = $9, project = $10, language = $11, conversation = $12,
		updated_at = $13, route = $14, volunteer_id = $15, mentor_id = $16, room_id = $17, room_alias = $18,
		queued_at = $19, accepted_at = $20, first_reply_at = $21, closed_at = $22, close_reason = $23,
		feedback_rating = $24, feedback_comment = $25, page_round = $26, page_step = $27, staff_id = $28,
		acked_at = $29, relayed = $30, party_keys = $31, version = version + 1
		WHERE id = $1 AND state = $2`,
		c.ID, from, c.State, nullBool(c.Safety.Harm), nullBool(c.Safety.Minor), nullBool(c.Safety.Illegal),
		nullBool(c.Safety.OffWiki), t.k.seal("cases.description", c.Description),
		pq.StringArray(t.k.sealAll("cases.parties", nonNil(c.Parties))), t.k.seal("cases.project", c.Project), c.Language,
		c.Conversation, ms(c.UpdatedAt), c.Route, nullID(c.VolunteerID), nullID(c.MentorID), c.RoomID, c.RoomAlias,
		ms0(c.QueuedAt), ms0(c.AcceptedAt), ms0(c.FirstReplyAt), ms0(c.ClosedAt), c.CloseReason,
		sql.NullInt64{Int64: int64(c.FeedbackRating), Valid: c.FeedbackRating > 0}, t.k.seal("cases.feedback_comment", c.FeedbackComment),
		c.PageRound, c.PageStep, c.StaffID, ms0(c.AckedAt), c.Relayed, pq.StringArray(t.k.nameHashes(c.Parties)))
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return bot.ErrConflict
	}
	return nil
}

// AddAddition keeps something the requester added: to a case, or to the intake that
// becomes one.
func (t *Tx) AddAddition(ctx context.Context, a bot.Addition) (err error) {
	defer wrap(&err, "add to case %d (intake %d)", a.CaseID, a.IntakeID)
	_, err = t.tx.ExecContext(ctx, `INSERT INTO case_additions (case_id, intake_id, text, created_at) VALUES ($1, $2, $3, $4)`,
		nullID(a.CaseID), nullID(a.IntakeID), t.k.seal("case_additions.text", a.Text), ms(a.At))
	return err
}

// AttachAdditions gives a new case what was added during its intake.
func (t *Tx) AttachAdditions(ctx context.Context, intakeID, caseID int64) (err error) {
	defer wrap(&err, "attach the additions of intake %d to case %d", intakeID, caseID)
	_, err = t.tx.ExecContext(ctx, `UPDATE case_additions SET case_id = $2 WHERE intake_id = $1 AND case_id IS NULL`,
		intakeID, caseID)
	return err
}

// Additions lists what was added to a case, oldest first.
func (t *Tx) Additions(ctx context.Context, caseID int64) (_ []bot.Addition, err error) {
	defer wrap(&err, "list the additions of case %d", caseID)
	var rows []struct {
		Text string `db:"text"`
		At   int64  `db:"created_at"`
	}
	if err := t.tx.SelectContext(ctx, &rows, `SELECT text, created_at FROM case_additions WHERE case_id = $1 ORDER BY id`, caseID); err != nil {
		return nil, err
	}
	out := make([]bot.Addition, len(rows))
	for i, r := range rows {
		text, err := t.k.open("case_additions.text", r.Text)
		if err != nil {
			return nil, err
		}
		out[i] = bot.Addition{CaseID: caseID, Text: text, At: fromMS(r.At)}
	}
	return out, nil
}

// AddNote keeps a note on a case.
func (t *Tx) AddNote(ctx context.Context, caseID int64, author, text string, now time.Time) (err error) {
	defer wrap(&err, "add a note to case %d", caseID)
	_, err = t.tx.ExecContext(ctx, `INSERT INTO case_notes (case_id, author, text, created_at) VALUES ($1, $2, $3, $4)`,
		caseID, author, t.k.seal("case_notes.text", text), ms(now))
	return err
}

// CasesWorkedBy lists and locks the open volunteer-route cases a volunteer works or
// mentors.
func (t *Tx) CasesWorkedBy(ctx context.Context, volunteerID int64) (_ []bot.Case, err error) {
	defer wrap(&err, "list the cases of volunteer %d", volunteerID)
	var rows []caseRow
	if err := t.tx.SelectContext(ctx, &rows, `SELECT `+caseColumns+` FROM cases WHERE (volunteer_id = $1 OR mentor_id = $1)
		AND route = 'volunteer' AND state IN ('accepted', 'active') ORDER BY id FOR UPDATE`, volunteerID); err != nil {
		return nil, err
	}
	return t.k.casesOf(rows)
}

// RecentlyClosed finds and locks the person's case closed most recently since since,
// or nil.
func (t *Tx) RecentlyClosed(ctx context.Context, personID int64, since time.Time) (_ *bot.Case, err error) {
	defer wrap(&err, "find the case person %d closed last", personID)
	var r caseRow
	err = t.tx.GetContext(ctx, &r, `SELECT `+caseColumns+` FROM cases WHERE person_id = $1 AND state = 'closed'
		AND closed_at >= $2 ORDER BY closed_at DESC LIMIT 1 FOR UPDATE`, personID, ms(since))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return r.toCase(t.k)
}

// AwaitingFeedback finds the person's most recent case closed since since that has no
// feedback yet, or nil.
func (t *Tx) AwaitingFeedback(ctx context.Context, personID int64, since time.Time) (_ *bot.Case, err error) {
	defer wrap(&err, "find a case awaiting feedback from person %d", personID)
	var r caseRow
	err = t.tx.GetContext(ctx, &r, `SELECT `+caseColumns+` FROM cases WHERE person_id = $1 AND state = 'closed'
		AND feedback_rating IS NULL AND closed_at >= $2 ORDER BY closed_at DESC LIMIT 1 FOR UPDATE`, personID, ms(since))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return r.toCase(t.k)
}
