package store

import (
	"context"
	"time"
)

// Purge forgets what the service no longer needs: the content of cases closed or
// withdrawn before contentBefore (what happened, who was named, additions, notes,
// feedback comments; the facts for statistics and the audit log stay), the answers of
// intakes that ended before then, and event IDs processed before dedupBefore (a
// redelivery is only ever that old). It reports how many cases it emptied.
func (s *Store) Purge(ctx context.Context, contentBefore, dedupBefore time.Time) (_ int, err error) {
	defer wrap(&err, "purge old content")
	var n int
	err = s.retry(ctx, "purge", func() error {
		tx, err := s.begin(ctx)
		if err != nil {
			return err
		}
		defer func() { _ = tx.Rollback() }()
		// purged_at marks the case as emptied even when it had nothing to erase, so
		// !reopen knows there is nothing left to work on (the database's clock: it is a
		// marker, compared with nothing).
		res, err := tx.ExecContext(ctx, `UPDATE cases SET description = '', parties = '{}', feedback_comment = '',
				purged_at = (extract(epoch FROM clock_timestamp()) * 1000)::bigint
			WHERE state IN ('closed', 'withdrawn') AND updated_at < $1 AND purged_at = 0`, ms(contentBefore))
		if err != nil {
			return err
		}
		rows, _ := res.RowsAffected()
		n = int(rows)
		for _, q := range []string{
			`DELETE FROM case_additions WHERE case_id IN (SELECT id FROM cases
				WHERE state IN ('closed', 'withdrawn') AND updated_at < $1)`,
			`UPDATE case_notes SET text = '' WHERE text <> '' AND case_id IN (SELECT id FROM cases
				WHERE state IN ('closed', 'withdrawn') AND updated_at < $1)`,
			`UPDATE intakes SET description = '', parties = NULL, project = ''
				WHERE status <> 'open' AND updated_at < $1 AND (description <> '' OR parties IS NOT NULL)`,
		} {
			if _, err := tx.ExecContext(ctx, q, ms(contentBefore)); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM processed_events WHERE processed_at < $1`, ms(dedupBefore)); err != nil {
			return err
		}
		return tx.Commit()
	})
	return n, err
}
