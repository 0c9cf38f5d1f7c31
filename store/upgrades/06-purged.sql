-- v5 -> v6: Remember when retention erased a case's content, so !reopen can refuse it
ALTER TABLE cases ADD COLUMN purged_at BIGINT NOT NULL DEFAULT 0;
-- Cases already emptied by the purge before this column existed.
UPDATE cases SET purged_at = updated_at WHERE state IN ('closed', 'withdrawn') AND description = '' AND parties = '{}';
