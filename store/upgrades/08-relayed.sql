-- v7 -> v8: Relayed case rooms: helpers only, the requester in their direct chat, and a map of relayed events
-- Fixed when a case's first room is made; cases before this version shared their room.
ALTER TABLE cases ADD COLUMN relayed BOOLEAN NOT NULL DEFAULT false;

-- Each message the bot relayed between a case room and a requester's chat, both ways:
-- an edit, a redaction, a reply or a reaction on one side finds its counterpart on the
-- other, and a message redelivered after a restart is not relayed twice.
CREATE TABLE relayed_events (
	case_id      BIGINT NOT NULL REFERENCES cases (id),
	source_room  TEXT   NOT NULL,
	source_event TEXT   NOT NULL,
	target_room  TEXT   NOT NULL,
	target_event TEXT   NOT NULL,
	created_at   BIGINT NOT NULL,
	PRIMARY KEY (source_event, target_room)
);
CREATE INDEX relayed_events_target ON relayed_events (target_event);
CREATE INDEX relayed_events_case ON relayed_events (case_id);
