-- v1 -> v2: Mark requests from people without a services account (IRC)
-- Such a request is tied to one connection; staff see that it is unverified.
ALTER TABLE intakes ADD COLUMN unidentified BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE cases ADD COLUMN unidentified BOOLEAN NOT NULL DEFAULT false;
