-- v14 -> v15: Retention: free-text reasons kept apart from the append-only audit log, and erased with their case
-- The reason of a transfer, a suspension or a block is what someone wrote: it lives
-- here, sealed (store.sealAtRest seals what this moves in), and is erased with the
-- case, or after the retention period when it is about no case. The event stays.
CREATE TABLE audit_texts (
	event_id BIGINT PRIMARY KEY REFERENCES case_events (id),
	case_id  BIGINT REFERENCES cases (id),
	text     TEXT   NOT NULL,
	at       BIGINT NOT NULL
);
CREATE INDEX audit_texts_case ON audit_texts (case_id) WHERE case_id IS NOT NULL;
CREATE INDEX audit_texts_at ON audit_texts (at) WHERE case_id IS NULL;

INSERT INTO audit_texts (event_id, case_id, text, at)
	SELECT id, case_id, detail->>'reason', at FROM case_events
	WHERE kind IN ('transferred', 'volunteer_suspended', 'blocked') AND coalesce(detail->>'reason', '') <> '';
-- The one change ever made to the log: taking the words out of it.
ALTER TABLE case_events DISABLE TRIGGER case_events_no_change;
UPDATE case_events SET detail = detail - 'reason'
	WHERE kind IN ('transferred', 'volunteer_suspended', 'blocked') AND detail ? 'reason';
ALTER TABLE case_events ENABLE TRIGGER case_events_no_change;
