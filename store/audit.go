package store

import (
	"context"
	"encoding/json"
	"time"

	"switchboard/bot"
)

// AppendEvent writes one audit row, and what someone wrote with it (e.Text) apart
// from the append-only log, sealed, so that it can be erased with the case.
func (t *Tx) AppendEvent(ctx context.Context, e bot.Event) (err error) {
	defer wrap(&err, "append %s event (case %d, intake %d)", e.Kind, e.CaseID, e.IntakeID)
	detail := []byte("{}")
	if len(e.Detail) > 0 {
		var err error
		if detail, err = json.Marshal(e.Detail); err != nil {
			return err
		}
	}
	if e.Text == "" {
		_, err = t.tx.ExecContext(ctx, `INSERT INTO case_events (case_id, intake_id, actor, kind, detail, at, subject)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, nullID(e.CaseID), nullID(e.IntakeID), e.Actor, e.Kind, detail, ms(e.At), e.Subject)
		return err
	}
	_, err = t.tx.ExecContext(ctx, `WITH e AS (INSERT INTO case_events (case_id, intake_id, actor, kind, detail, at, subject)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id, case_id, at)
		INSERT INTO audit_texts (event_id, case_id, text, at) SELECT id, case_id, $8, at FROM e`,
		nullID(e.CaseID), nullID(e.IntakeID), e.Actor, e.Kind, detail, ms(e.At), e.Subject, t.k.seal("audit_texts.text", e.Text))
	return err
}

// PagedStaff lists who was paged about a case, each once, in the order first paged.
func (t *Tx) PagedStaff(ctx context.Context, caseID int64) (_ []string, err error) {
	defer wrap(&err, "list who was paged for case %d", caseID)
	var who []string
	err = t.tx.SelectContext(ctx, &who, `SELECT subject FROM case_events WHERE case_id = $1 AND kind = 'paged'
		GROUP BY subject ORDER BY min(id)`, caseID)
	return who, err
}

type eventRow struct {
	CaseID   *int64 `db:"case_id"`
	IntakeID *int64 `db:"intake_id"`
	Actor    string `db:"actor"`
	Kind     string `db:"kind"`
	Detail   []byte `db:"detail"`
	At       int64  `db:"at"`
	Text     string `db:"text"`
}

// eventColumns are an event's, with the text written with it while it is kept.
const eventColumns = `e.case_id, e.intake_id, e.actor, e.kind, e.detail, e.at, e.subject, coalesce(x.text, '') AS text`

// CaseEvents reads a case's audit log, oldest first, including the events of the
// intake it came from.
func (s *Store) CaseEvents(ctx context.Context, caseID int64) (_ []bot.Event, err error) {
	defer wrap(&err, "load events of case %d", caseID)
	var rows []struct {
		eventRow
		Subject string `db:"subject"`
	}
	err = s.DB.SelectContext(ctx, &rows, `SELECT `+eventColumns+` FROM case_events e LEFT JOIN audit_texts x ON x.event_id = e.id
		WHERE e.case_id = $1 OR e.intake_id = (SELECT intake_id FROM cases WHERE id = $1) ORDER BY e.id`, caseID)
	if err != nil {
		return nil, err
	}
	out := make([]bot.Event, 0, len(rows))
	for _, r := range rows {
		e, err := r.event(s.keys)
		if err != nil {
			return nil, err
		}
		e.Subject = r.Subject
		out = append(out, e)
	}
	return out, nil
}

func (r eventRow) event(k *Keys) (bot.Event, error) {
	text, err := k.open("audit_texts.text", r.Text)
	if err != nil {
		return bot.Event{}, err
	}
	e := bot.Event{Actor: r.Actor, Kind: bot.EventKind(r.Kind), At: time.UnixMilli(r.At), Text: text}
	if r.CaseID != nil {
		e.CaseID = *r.CaseID
	}
	if r.IntakeID != nil {
		e.IntakeID = *r.IntakeID
	}
	_ = json.Unmarshal(r.Detail, &e.Detail)
	return e, nil
}

// AuditOf lists what someone did or what was done about them, newest last.
func (t *Tx) AuditOf(ctx context.Context, who string, limit int) (_ []bot.Event, err error) {
	defer wrap(&err, "load the audit of %s", who)
	return t.events(ctx, `SELECT `+eventColumns+` FROM (SELECT * FROM case_events
		WHERE actor = $1 OR subject = $1 ORDER BY id DESC LIMIT $2) e LEFT JOIN audit_texts x ON x.event_id = e.id ORDER BY e.id`, who, limit)
}

// AuditCase lists a case's events, with its intake's.
func (t *Tx) AuditCase(ctx context.Context, caseID int64) (_ []bot.Event, err error) {
	defer wrap(&err, "load the audit of case %d", caseID)
	return t.events(ctx, `SELECT `+eventColumns+` FROM case_events e LEFT JOIN audit_texts x ON x.event_id = e.id
		WHERE e.case_id = $1 OR e.intake_id = (SELECT intake_id FROM cases WHERE id = $1) ORDER BY e.id LIMIT $2`, caseID, 500)
}

func (t *Tx) events(ctx context.Context, query string, args ...any) ([]bot.Event, error) {
	var rows []struct {
		eventRow
		Subject string `db:"subject"`
	}
	if err := t.tx.SelectContext(ctx, &rows, query, args...); err != nil {
		return nil, err
	}
	out := make([]bot.Event, len(rows))
	for i, r := range rows {
		var err error
		if out[i], err = r.eventRow.event(t.k); err != nil {
			return nil, err
		}
		out[i].Subject = r.Subject
	}
	return out, nil
}
