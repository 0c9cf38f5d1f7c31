-- v6 -> v7: Follow-ups reach a person: what a requester adds before their case exists is kept with the intake, and a case remembers every room it had
-- An addition belongs to a case, or (said during the intake: an answer the bot could not
-- read) to the intake that becomes one.
ALTER TABLE case_additions ALTER COLUMN case_id DROP NOT NULL;
ALTER TABLE case_additions ADD COLUMN intake_id BIGINT REFERENCES intakes (id);
ALTER TABLE case_additions ADD CONSTRAINT case_additions_owner CHECK (case_id IS NOT NULL OR intake_id IS NOT NULL);
CREATE INDEX case_additions_intake ON case_additions (intake_id) WHERE intake_id IS NOT NULL;

-- Every room a case had: a requester writing in a room the case left (after an
-- escalation) is still recognised, told where to write, and heard.
CREATE TABLE case_rooms (
	room_id    TEXT   PRIMARY KEY,
	case_id    BIGINT NOT NULL REFERENCES cases (id),
	created_at BIGINT NOT NULL
);
CREATE INDEX case_rooms_case ON case_rooms (case_id);
INSERT INTO case_rooms (room_id, case_id, created_at) SELECT room_id, id, updated_at FROM cases WHERE room_id <> '';
