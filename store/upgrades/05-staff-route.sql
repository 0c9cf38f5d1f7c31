-- v4 -> v5: Staff route: paging with acknowledgement, blocks, intake flood control, cross-case links
ALTER TABLE cases ADD COLUMN page_round INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cases ADD COLUMN page_step INTEGER NOT NULL DEFAULT 0;
-- The staff member who acknowledged the page and works the case.
ALTER TABLE cases ADD COLUMN staff_id TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN acked_at BIGINT NOT NULL DEFAULT 0;
CREATE INDEX cases_parties ON cases USING GIN (parties);

-- Messages that mention someone (pages in the staff room), so their phone notifies.
ALTER TABLE outbox ADD COLUMN mentions TEXT[] NOT NULL DEFAULT '{}';

-- People staff blocked; until 0 means until unblocked.
CREATE TABLE blocks (
	platform    TEXT   NOT NULL,
	external_id TEXT   NOT NULL,
	until       BIGINT NOT NULL DEFAULT 0,
	reason      TEXT   NOT NULL DEFAULT '',
	blocked_by  TEXT   NOT NULL,
	blocked_at  BIGINT NOT NULL,
	PRIMARY KEY (platform, external_id)
);

-- First messages that arrived while new intakes were over the global rate: each is
-- answered at once and started in order as the rate allows. The text is deleted as
-- soon as the intake starts.
CREATE TABLE intake_waitlist (
	id           BIGSERIAL PRIMARY KEY,
	platform     TEXT    NOT NULL,
	sender       TEXT    NOT NULL,
	conversation TEXT    NOT NULL,
	opening      TEXT    NOT NULL,
	unidentified BOOLEAN NOT NULL DEFAULT false,
	added_at     BIGINT  NOT NULL,
	UNIQUE (platform, sender)
);

-- Cases that name each other's people: shown to staff only.
CREATE TABLE case_links (
	case_id    BIGINT NOT NULL REFERENCES cases (id),
	other_id   BIGINT NOT NULL REFERENCES cases (id),
	kind       TEXT   NOT NULL,
	created_at BIGINT NOT NULL,
	PRIMARY KEY (case_id, other_id, kind)
);

-- The name a person most likely has on the wiki (a Matrix localpart, an IRC account),
-- normalised like parties, for cross-case links.
ALTER TABLE people ADD COLUMN known_name TEXT NOT NULL DEFAULT '';
CREATE INDEX people_known_name ON people (known_name) WHERE known_name <> '';
