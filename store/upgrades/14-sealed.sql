-- v13 -> v14: Case content and the access token sealed at rest (AES-GCM under keys derived from encryption.data-key), names matched by a keyed hash
-- The sealing is done by the bot at start (store.sealAtRest): only Go holds the key, so
-- this migration only makes room for it. Sealed values are text ("sb1:<key ID>:…").
-- An outbox payload is sealed like a message, so it is text now, not JSON.
ALTER TABLE outbox ALTER COLUMN payload DROP DEFAULT;
ALTER TABLE outbox ALTER COLUMN payload TYPE TEXT USING payload::text;
ALTER TABLE outbox ALTER COLUMN payload SET DEFAULT '';
-- Which data key the name hashes (party_keys, wiki_key, name_key, known_key) are
-- under: "" until the bot first sealed this database; a new key hashes them again.
CREATE TABLE data_key_state (
	name_key_id TEXT NOT NULL
);
INSERT INTO data_key_state (name_key_id) VALUES ('');
