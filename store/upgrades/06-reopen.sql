-- v5 -> v6: Reopening cases: remember when retention erased a case's content, and let a case be offered to a volunteer again
ALTER TABLE cases ADD COLUMN purged_at BIGINT NOT NULL DEFAULT 0;
-- Cases the purge emptied before this column existed look like this; a case that never
-- had content looks the same, and has nothing to reopen either.
UPDATE cases SET purged_at = updated_at WHERE state IN ('closed', 'withdrawn') AND description = '' AND parties = '{}';

-- A reopened case may be offered again to someone who had it before; routing counts
-- only the offers since the case was last queued. One open offer per volunteer and case.
ALTER TABLE offers DROP CONSTRAINT offers_case_id_volunteer_id_key;
CREATE UNIQUE INDEX offers_one_open ON offers (case_id, volunteer_id) WHERE state = 'open';
CREATE INDEX offers_case ON offers (case_id, volunteer_id, offered_at);
