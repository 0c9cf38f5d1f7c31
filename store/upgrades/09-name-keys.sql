-- v8 -> v9: Wiki usernames compared by one key computed in Go (MediaWiki's rules, NFC, format characters dropped, case-folded)
-- The keys of existing rows are filled in by the bot at start (store.fillNameKeys):
-- only Go computes them, so that both sides of every comparison are the same function.
ALTER TABLE cases ADD COLUMN party_keys TEXT[] NOT NULL DEFAULT '{}';
CREATE INDEX cases_party_keys ON cases USING GIN (party_keys);
ALTER TABLE volunteers ADD COLUMN wiki_key TEXT NOT NULL DEFAULT '';
ALTER TABLE conflicts ADD COLUMN name_key TEXT NOT NULL DEFAULT '';
CREATE INDEX conflicts_key ON conflicts (volunteer_id, name_key);
ALTER TABLE people ADD COLUMN known_key TEXT NOT NULL DEFAULT '';
CREATE INDEX people_known_key ON people (known_key) WHERE known_key <> '';
