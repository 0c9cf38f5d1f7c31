package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"switchboard/bot"
)

type offerRow struct {
	ID          int64  `db:"id"`
	CaseID      int64  `db:"case_id"`
	VolunteerID int64  `db:"volunteer_id"`
	State       string `db:"state"`
	OfferedAt   int64  `db:"offered_at"`
}

func (r offerRow) offer() *bot.Offer {
	return &bot.Offer{ID: r.ID, CaseID: r.CaseID, VolunteerID: r.VolunteerID, State: bot.OfferState(r.State), OfferedAt: fromMS(r.OfferedAt)}
}

// CreateOffer records that a case was offered to a volunteer.
func (t *Tx) CreateOffer(ctx context.Context, o *bot.Offer) (err error) {
	defer wrap(&err, "offer case %d to volunteer %d", o.CaseID, o.VolunteerID)
	return t.tx.QueryRowxContext(ctx, `INSERT INTO offers (case_id, volunteer_id, state, offered_at)
		VALUES ($1, $2, $3, $4) RETURNING id`, o.CaseID, o.VolunteerID, o.State, ms(o.OfferedAt)).Scan(&o.ID)
}

// HadOffer reports whether the case was ever offered to the volunteer.
func (t *Tx) HadOffer(ctx context.Context, caseID, volunteerID int64) (_ bool, err error) {
	defer wrap(&err, "check offers of case %d to volunteer %d", caseID, volunteerID)
	var n int
	err = t.tx.GetContext(ctx, &n, `SELECT count(*) FROM offers WHERE case_id = $1 AND volunteer_id = $2`, caseID, volunteerID)
	return n > 0, err
}

// OpenOffer finds and locks the open offer of a case, or nil.
func (t *Tx) OpenOffer(ctx context.Context, caseID int64) (_ *bot.Offer, err error) {
	defer wrap(&err, "load the open offer of case %d", caseID)
	var r offerRow
	err = t.tx.GetContext(ctx, &r, `SELECT id, case_id, volunteer_id, state, offered_at FROM offers
		WHERE case_id = $1 AND state = 'open' FOR UPDATE`, caseID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return r.offer(), nil
}

// CloseOffer moves an open offer to its outcome; false if it was no longer open.
func (t *Tx) CloseOffer(ctx context.Context, offerID int64, state bot.OfferState, now time.Time) (_ bool, err error) {
	defer wrap(&err, "close offer %d as %s", offerID, state)
	res, err := t.tx.ExecContext(ctx, `UPDATE offers SET state = $2, answered_at = $3 WHERE id = $1 AND state = 'open'`,
		offerID, state, ms(now))
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// OpenOffersOf lists the cases offered to a volunteer and still open, oldest first.
func (t *Tx) OpenOffersOf(ctx context.Context, volunteerID int64) (_ []bot.Offer, err error) {
	defer wrap(&err, "list the open offers of volunteer %d", volunteerID)
	var rows []offerRow
	if err := t.tx.SelectContext(ctx, &rows, `SELECT id, case_id, volunteer_id, state, offered_at FROM offers
		WHERE volunteer_id = $1 AND state = 'open' ORDER BY id`, volunteerID); err != nil {
		return nil, err
	}
	out := make([]bot.Offer, len(rows))
	for i, r := range rows {
		out[i] = *r.offer()
	}
	return out, nil
}

// OfferByID loads and locks an offer, or nil.
func (t *Tx) OfferByID(ctx context.Context, id int64) (_ *bot.Offer, err error) {
	defer wrap(&err, "load offer %d", id)
	var r offerRow
	err = t.tx.GetContext(ctx, &r, `SELECT id, case_id, volunteer_id, state, offered_at FROM offers
		WHERE id = $1 FOR UPDATE`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return r.offer(), nil
}
