-- v11 -> v12: Acknowledging a page from the phone: tokens and webhook events are used once
-- The nonce is the token's MAC (or the webhook event's ID), never who it was for.
CREATE TABLE pager_ack_tokens (
	nonce   TEXT   PRIMARY KEY,
	used_at BIGINT NOT NULL
);
