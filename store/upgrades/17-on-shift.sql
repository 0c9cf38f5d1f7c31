-- v16 -> v17: Who is on shift now is worked out once a minute, not at every routing decision
-- A routing decision used to work out from every shift (6,000 for 2,000 volunteers)
-- who is on shift now: half of its 3.5 ms. The store now keeps that list for the
-- current minute and passes it to the decision (store/routing.go). shift_gen counts
-- changes to shifts, by any writer, so a list worked out before a change is never used
-- after it, whichever process or statement made the change.
CREATE TABLE shift_gen (
	one BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (one),
	gen BIGINT NOT NULL
);
INSERT INTO shift_gen (one, gen) VALUES (TRUE, 1);
CREATE FUNCTION shift_gen_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	UPDATE shift_gen SET gen = gen + 1;
	RETURN NULL;
END $$;
CREATE TRIGGER shifts_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON shifts
	FOR EACH STATEMENT EXECUTE FUNCTION shift_gen_bump();
-- With the list given, a decision starts from those on duty by hand (on_until) or on
-- the list (the primary key), not from every volunteer.
CREATE INDEX volunteers_on_until ON volunteers (on_until);
-- The conflicts declared with the case's parties, without reading every conflict.
CREATE INDEX conflicts_name ON conflicts (name_key);
