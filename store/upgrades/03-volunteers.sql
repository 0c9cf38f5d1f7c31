-- v2 -> v3: Volunteers: roster and vetting, duty, shifts, conflicts, offers, case rooms
CREATE TABLE volunteers (
	id            BIGSERIAL PRIMARY KEY,
	user_id       TEXT    NOT NULL UNIQUE,
	wiki_username TEXT    NOT NULL DEFAULT '',
	status        TEXT    NOT NULL CHECK (status IN ('applicant', 'trainee', 'active', 'suspended', 'removed')),
	mentor_id     BIGINT  REFERENCES volunteers (id),
	languages     TEXT[]  NOT NULL DEFAULT '{}',
	case_limit    INTEGER NOT NULL DEFAULT 2,
	-- Duty by hand: on until on_until (!on [for 2h]); !off during a shift sets off_until
	-- to the shift's end so the shift does not put them back on.
	on_until      BIGINT  NOT NULL DEFAULT 0,
	off_until     BIGINT  NOT NULL DEFAULT 0,
	dm_room       TEXT    NOT NULL DEFAULT '',
	last_offer_at BIGINT  NOT NULL DEFAULT 0,
	created_at    BIGINT  NOT NULL,
	updated_at    BIGINT  NOT NULL
);

-- Weekly shifts in the volunteer's own time zone (IANA name); end_min < start_min
-- means the shift runs past midnight.
CREATE TABLE shifts (
	id           BIGSERIAL PRIMARY KEY,
	volunteer_id BIGINT  NOT NULL REFERENCES volunteers (id) ON DELETE CASCADE,
	weekday      INTEGER NOT NULL CHECK (weekday BETWEEN 0 AND 6),
	start_min    INTEGER NOT NULL CHECK (start_min BETWEEN 0 AND 1439),
	end_min      INTEGER NOT NULL CHECK (end_min BETWEEN 0 AND 1440),
	tz           TEXT    NOT NULL
);
CREATE INDEX shifts_volunteer ON shifts (volunteer_id);

-- Wiki usernames a volunteer declared a conflict with (normalised like parties).
CREATE TABLE conflicts (
	volunteer_id BIGINT NOT NULL REFERENCES volunteers (id) ON DELETE CASCADE,
	username     TEXT   NOT NULL,
	PRIMARY KEY (volunteer_id, username)
);

ALTER TABLE cases ADD COLUMN volunteer_id BIGINT REFERENCES volunteers (id);
ALTER TABLE cases ADD COLUMN mentor_id BIGINT REFERENCES volunteers (id);
ALTER TABLE cases ADD COLUMN room_id TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN room_alias TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN queued_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE cases ADD COLUMN accepted_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE cases ADD COLUMN first_reply_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE cases ADD COLUMN closed_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE cases ADD COLUMN close_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN feedback_rating INTEGER CHECK (feedback_rating BETWEEN 1 AND 5);
ALTER TABLE cases ADD COLUMN feedback_comment TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
CREATE INDEX cases_volunteer ON cases (volunteer_id, state);
CREATE INDEX cases_room ON cases (room_id) WHERE room_id <> '';

-- Every offer of a case to a volunteer; a volunteer is never offered the same case twice.
CREATE TABLE offers (
	id           BIGSERIAL PRIMARY KEY,
	case_id      BIGINT NOT NULL REFERENCES cases (id),
	volunteer_id BIGINT NOT NULL REFERENCES volunteers (id),
	state        TEXT   NOT NULL CHECK (state IN ('open', 'accepted', 'declined', 'expired', 'withdrawn')),
	offered_at   BIGINT NOT NULL,
	answered_at  BIGINT NOT NULL DEFAULT 0,
	UNIQUE (case_id, volunteer_id)
);
CREATE INDEX offers_open ON offers (volunteer_id) WHERE state = 'open';

-- Roster changes are audited like case changes; subject names who they were about.
ALTER TABLE case_events ADD COLUMN subject TEXT NOT NULL DEFAULT '';
CREATE INDEX case_events_subject ON case_events (subject, id) WHERE subject <> '';
