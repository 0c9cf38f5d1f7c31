-- v3 -> v4: Outbox actions (create a case room, invite, remove) and case notes
-- An action is queued in the same transaction as the change that needs it, like a
-- message; payload holds what the bridge needs (never case content).
ALTER TABLE outbox ADD COLUMN action TEXT NOT NULL DEFAULT 'message';
ALTER TABLE outbox ADD COLUMN payload JSONB NOT NULL DEFAULT '{}';

-- Notes volunteers and staff keep on a case (!note, and the note of !close); shown to
-- coordinators and staff, never in the room.
CREATE TABLE case_notes (
	id         BIGSERIAL PRIMARY KEY,
	case_id    BIGINT NOT NULL REFERENCES cases (id),
	author     TEXT   NOT NULL,
	text       TEXT   NOT NULL,
	created_at BIGINT NOT NULL
);
CREATE INDEX case_notes_case ON case_notes (case_id);
