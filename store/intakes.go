package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/lib/pq"

	"switchboard/bot"
)

type intakeRow struct {
	ID           int64          `db:"id"`
	PersonID     int64          `db:"person_id"`
	Conversation string         `db:"conversation"`
	Status       string         `db:"status"`
	Step         string         `db:"step"`
	Version      int            `db:"version"`
	Harm         sql.NullBool   `db:"q_harm"`
	Minor        sql.NullBool   `db:"q_minor"`
	Illegal      sql.NullBool   `db:"q_illegal"`
	OffWiki      sql.NullBool   `db:"q_offwiki"`
	Description  string         `db:"description"`
	Parties      pq.StringArray `db:"parties"`
	Project      string         `db:"project"`
	Language     string         `db:"language"`
	CaseID       sql.NullInt64  `db:"case_id"`
	Unidentified bool           `db:"unidentified"`
	CreatedAt    int64          `db:"created_at"`
	UpdatedAt    int64          `db:"updated_at"`
}

const intakeColumns = `id, person_id, conversation, status, step, version, q_harm, q_minor, q_illegal,
	q_offwiki, description, parties, project, language, case_id, unidentified, created_at, updated_at`

func boolPtr(n sql.NullBool) *bool {
	if !n.Valid {
		return nil
	}
	v := n.Bool
	return &v
}

func nullBool(p *bool) sql.NullBool {
	if p == nil {
		return sql.NullBool{}
	}
	return sql.NullBool{Bool: *p, Valid: true}
}

// intake opens what is sealed in the row.
func (r intakeRow) intake(k *Keys) (_ *bot.Intake, err error) {
	defer wrap(&err, "open intake %d", r.ID)
	var desc, project string
	if desc, err = k.open("intakes.description", r.Description); err != nil {
		return nil, err
	}
	if project, err = k.open("intakes.project", r.Project); err != nil {
		return nil, err
	}
	ik := &bot.Intake{
		ID: r.ID, PersonID: r.PersonID, Conversation: r.Conversation, Status: bot.IntakeStatus(r.Status),
		Step: bot.Step(r.Step), Version: r.Version, Description: desc, Project: project,
		Language: r.Language, CaseID: r.CaseID.Int64, Unidentified: r.Unidentified, CreatedAt: fromMS(r.CreatedAt), UpdatedAt: fromMS(r.UpdatedAt),
		Safety: bot.Safety{Harm: boolPtr(r.Harm), Minor: boolPtr(r.Minor), Illegal: boolPtr(r.Illegal), OffWiki: boolPtr(r.OffWiki)},
	}
	if r.Parties != nil {
		if ik.Parties, err = k.openAll("intakes.parties", r.Parties); err != nil {
			return nil, err
		}
	}
	return ik, nil
}

// partiesArg seals the parties, keeping the difference between "not asked" (NULL) and
// "none" ('{}').
func (k *Keys) partiesArg(p []string) any {
	if p == nil {
		return nil
	}
	return pq.StringArray(k.sealAll("intakes.parties", p))
}

func nullID(id int64) sql.NullInt64 { return sql.NullInt64{Int64: id, Valid: id != 0} }

func (t *Tx) getIntake(ctx context.Context, query string, arg any) (*bot.Intake, error) {
	var r intakeRow
	err := t.tx.GetContext(ctx, &r, `SELECT `+intakeColumns+` FROM intakes WHERE `+query+` FOR UPDATE`, arg)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return r.intake(t.k)
}

// OpenIntake loads and locks the person's intake in progress, or nil.
func (t *Tx) OpenIntake(ctx context.Context, personID int64) (_ *bot.Intake, err error) {
	defer wrap(&err, "load the open intake of person %d", personID)
	return t.getIntake(ctx, `person_id = $1 AND status = 'open'`, personID)
}

// Intake loads and locks an intake by ID, or nil.
func (t *Tx) Intake(ctx context.Context, id int64) (_ *bot.Intake, err error) {
	defer wrap(&err, "load intake %d", id)
	return t.getIntake(ctx, `id = $1`, id)
}

// CreateIntake inserts ik and sets its ID.
func (t *Tx) CreateIntake(ctx context.Context, ik *bot.Intake) (err error) {
	defer wrap(&err, "create an intake for person %d", ik.PersonID)
	return t.tx.QueryRowxContext(ctx, `INSERT INTO intakes (person_id, conversation, status, step, q_harm, q_minor,
		q_illegal, q_offwiki, description, parties, project, language, case_id, created_at, updated_at, unidentified)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING id`,
		ik.PersonID, ik.Conversation, ik.Status, ik.Step, nullBool(ik.Safety.Harm), nullBool(ik.Safety.Minor),
		nullBool(ik.Safety.Illegal), nullBool(ik.Safety.OffWiki), t.k.seal("intakes.description", ik.Description),
		t.k.partiesArg(ik.Parties), t.k.seal("intakes.project", ik.Project), ik.Language, nullID(ik.CaseID),
		ms(ik.CreatedAt), ms(ik.UpdatedAt), ik.Unidentified).Scan(&ik.ID)
}

// UpdateIntake writes ik if nobody changed it since it was read.
func (t *Tx) UpdateIntake(ctx context.Context, ik *bot.Intake) (err error) {
	defer wrap(&err, "update intake %d", ik.ID)
	res, err := t.tx.ExecContext(ctx, `UPDATE intakes SET conversation = $3, status = $4, step = $5,
		q_harm = $6, q_minor = $7, q_illegal = $8, q_offwiki = $9, description = $10, parties = $11,
		project = $12, language = $13, case_id = $14, updated_at = $15, version = version + 1
		WHERE id = $1 AND version = $2`,
		ik.ID, ik.Version, ik.Conversation, ik.Status, ik.Step, nullBool(ik.Safety.Harm), nullBool(ik.Safety.Minor),
		nullBool(ik.Safety.Illegal), nullBool(ik.Safety.OffWiki), t.k.seal("intakes.description", ik.Description),
		t.k.partiesArg(ik.Parties), t.k.seal("intakes.project", ik.Project), ik.Language, nullID(ik.CaseID), ms(ik.UpdatedAt))
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return bot.ErrConflict
	}
	ik.Version++
	return nil
}

// IntakesSince counts the intakes a person started since a moment.
func (t *Tx) IntakesSince(ctx context.Context, personID int64, since time.Time) (_ int, err error) {
	defer wrap(&err, "count intakes of person %d", personID)
	var n int
	err = t.tx.GetContext(ctx, &n, `SELECT count(*) FROM intakes WHERE person_id = $1 AND created_at >= $2`, personID, ms(since))
	return n, err
}
