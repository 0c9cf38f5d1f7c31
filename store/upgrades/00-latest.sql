-- v0 -> v1: Switchboard's first schema
-- Times are unix milliseconds (BIGINT); enums are TEXT checked against their values.

CREATE TABLE people (
	id          BIGSERIAL PRIMARY KEY,
	platform    TEXT   NOT NULL CHECK (platform IN ('matrix', 'irc')),
	external_id TEXT   NOT NULL,
	language    TEXT   NOT NULL DEFAULT '',
	created_at  BIGINT NOT NULL,
	UNIQUE (platform, external_id)
);

CREATE TABLE intakes (
	id           BIGSERIAL PRIMARY KEY,
	person_id    BIGINT  NOT NULL REFERENCES people (id),
	conversation TEXT    NOT NULL,
	status       TEXT    NOT NULL CHECK (status IN ('open', 'done', 'cancelled', 'expired')),
	step         TEXT    NOT NULL,
	version      INTEGER NOT NULL DEFAULT 0,
	q_harm       BOOLEAN,
	q_minor      BOOLEAN,
	q_illegal    BOOLEAN,
	q_offwiki    BOOLEAN,
	description  TEXT    NOT NULL DEFAULT '',
	parties      TEXT[],
	project      TEXT    NOT NULL DEFAULT '',
	language     TEXT    NOT NULL DEFAULT '',
	case_id      BIGINT,
	created_at   BIGINT  NOT NULL,
	updated_at   BIGINT  NOT NULL
);
-- One intake in progress per person: a second DM room finds the first.
CREATE UNIQUE INDEX intakes_one_open ON intakes (person_id) WHERE status = 'open';

CREATE TABLE cases (
	id           BIGSERIAL PRIMARY KEY,
	ref          TEXT    NOT NULL UNIQUE,
	person_id    BIGINT  NOT NULL REFERENCES people (id),
	intake_id    BIGINT  NOT NULL REFERENCES intakes (id),
	route        TEXT    NOT NULL CHECK (route IN ('volunteer', 'staff')),
	state        TEXT    NOT NULL,
	q_harm       BOOLEAN,
	q_minor      BOOLEAN,
	q_illegal    BOOLEAN,
	q_offwiki    BOOLEAN,
	description  TEXT    NOT NULL DEFAULT '',
	parties      TEXT[]  NOT NULL DEFAULT '{}',
	project      TEXT    NOT NULL DEFAULT '',
	language     TEXT    NOT NULL DEFAULT '',
	conversation TEXT    NOT NULL,
	created_at   BIGINT  NOT NULL,
	updated_at   BIGINT  NOT NULL
);
-- At most one open case per requester.
CREATE UNIQUE INDEX cases_one_open ON cases (person_id) WHERE state NOT IN ('withdrawn', 'closed');
CREATE INDEX cases_state ON cases (state, created_at);
ALTER TABLE intakes ADD CONSTRAINT intakes_case_fk FOREIGN KEY (case_id) REFERENCES cases (id);

-- What a requester added to an open case (!add, or a message after it opened).
CREATE TABLE case_additions (
	id         BIGSERIAL PRIMARY KEY,
	case_id    BIGINT NOT NULL REFERENCES cases (id),
	text       TEXT   NOT NULL,
	created_at BIGINT NOT NULL
);
CREATE INDEX case_additions_case ON case_additions (case_id);

-- The audit log: append-only, enforced by the trigger below.
CREATE TABLE case_events (
	id        BIGSERIAL PRIMARY KEY,
	case_id   BIGINT REFERENCES cases (id),
	intake_id BIGINT REFERENCES intakes (id),
	actor     TEXT   NOT NULL,
	kind      TEXT   NOT NULL,
	detail    JSONB  NOT NULL DEFAULT '{}',
	at        BIGINT NOT NULL
);
CREATE INDEX case_events_case ON case_events (case_id, id);
CREATE INDEX case_events_intake ON case_events (intake_id, id);
CREATE INDEX case_events_actor ON case_events (actor, id);

CREATE FUNCTION case_events_append_only() RETURNS trigger AS $$
BEGIN
	RAISE EXCEPTION 'case_events is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER case_events_no_change BEFORE UPDATE OR DELETE ON case_events
	FOR EACH ROW EXECUTE FUNCTION case_events_append_only();

-- Timers fire once; the row is deleted in the transaction that acts on it.
CREATE TABLE timers (
	kind    TEXT   NOT NULL,
	subject BIGINT NOT NULL,
	due_at  BIGINT NOT NULL,
	PRIMARY KEY (kind, subject)
);
CREATE INDEX timers_due ON timers (due_at);

-- Inbound events already acted on, for exactly-once handling of redeliveries.
CREATE TABLE processed_events (
	platform     TEXT   NOT NULL,
	event_id     TEXT   NOT NULL,
	processed_at BIGINT NOT NULL,
	PRIMARY KEY (platform, event_id)
);
CREATE INDEX processed_events_age ON processed_events (processed_at);

-- Messages to send, written with the change that caused them, deleted once sent.
CREATE TABLE outbox (
	id           BIGSERIAL PRIMARY KEY,
	platform     TEXT    NOT NULL,
	conversation TEXT    NOT NULL,
	plain        TEXT    NOT NULL,
	markdown     TEXT    NOT NULL,
	notice       BOOLEAN NOT NULL DEFAULT false,
	-- content_free: holds no case content, so it may go to a room without encryption.
	content_free BOOLEAN NOT NULL DEFAULT false,
	attempts     INTEGER NOT NULL DEFAULT 0,
	created_at   BIGINT  NOT NULL
);
CREATE INDEX outbox_platform ON outbox (platform, id);

-- Where each bot account's /sync stands; advanced only after a batch is processed.
CREATE TABLE sync_state (
	account    TEXT PRIMARY KEY,
	next_batch TEXT NOT NULL DEFAULT '',
	filter_id  TEXT NOT NULL DEFAULT ''
);

-- The Matrix session: kept so every start reuses the same device (a new device would
-- break every encrypted room). The recovery key is sealed with the pickle key.
CREATE TABLE matrix_session (
	user_id       TEXT PRIMARY KEY,
	device_id     TEXT NOT NULL,
	access_token  TEXT NOT NULL,
	recovery_key  BYTEA
);

-- Encrypted events whose keys had not arrived when their /sync batch was processed:
-- kept until they are decrypted and handled (or answered as undecryptable), so a
-- restart while waiting for keys loses nothing.
CREATE TABLE matrix_pending_events (
	event_id TEXT PRIMARY KEY,
	room_id  TEXT   NOT NULL,
	event    JSONB  NOT NULL,
	added_at BIGINT NOT NULL
);
