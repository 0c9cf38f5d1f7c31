package store

import (
	"context"
	"time"

	"github.com/lib/pq"

	"switchboard/bot"
)

// LinkedCases finds open or recent cases (other than c) that name c's requester as a
// party, or whose requester c names. Returns (other case, kind).
func (t *Tx) LinkedCases(ctx context.Context, c *bot.Case, knownName string, since time.Time) (_ []bot.CaseLink, err error) {
	defer wrap(&err, "find cases linked to %s", c.Ref)
	var rows []struct {
		ID   int64  `db:"id"`
		Ref  string `db:"ref"`
		Kind string `db:"kind"`
	}
	err = t.tx.SelectContext(ctx, &rows, `
		SELECT o.id, o.ref, 'requester_named' AS kind FROM cases o
		WHERE o.id <> $1 AND $2 <> '' AND $2 = ANY (o.party_keys)
			AND (o.state NOT IN ('withdrawn', 'closed') OR o.updated_at >= $4)
		UNION
		SELECT o.id, o.ref, 'names_requester' FROM cases o JOIN people p ON p.id = o.person_id
		WHERE o.id <> $1 AND p.known_key <> '' AND p.known_key = ANY ($3::text[])
			AND (o.state NOT IN ('withdrawn', 'closed') OR o.updated_at >= $4)`,
		c.ID, t.k.nameHash(knownName), pq.StringArray(t.k.nameHashes(c.Parties)), ms(since))
	if err != nil {
		return nil, err
	}
	out := make([]bot.CaseLink, len(rows))
	for i, r := range rows {
		out[i] = bot.CaseLink{OtherID: r.ID, OtherRef: r.Ref, Kind: bot.LinkKind(r.Kind)}
	}
	return out, nil
}

// AddLink records a link; false if it was known.
func (t *Tx) AddLink(ctx context.Context, caseID int64, l bot.CaseLink, now time.Time) (_ bool, err error) {
	defer wrap(&err, "link case %d to %s", caseID, l.OtherRef)
	res, err := t.tx.ExecContext(ctx, `INSERT INTO case_links (case_id, other_id, kind, created_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT DO NOTHING`, caseID, l.OtherID, l.Kind, ms(now))
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}
