-- v10 -> v11: Rooms the bot was invited to but could not join yet, retried apart from /sync
-- A join the homeserver fails (5xx, 429, no answer) is retried on its own, so the sync
-- position moves on; the row keeps the invitation across a restart, as the batch that
-- brought it is not fetched again. Only the room ID, never anything said in it.
CREATE TABLE matrix_pending_joins (
	room_id  TEXT   PRIMARY KEY,
	added_at BIGINT NOT NULL
);
