-- v12 -> v13: Replicas: one leader at a time, by a lease row with an epoch
-- The holder renews expires_at every few seconds; a standby takes the lease when it
-- has expired (or at once when the holder's session, which holds an advisory lock,
-- is gone), adding one to the epoch. Every write of the leader checks its epoch.
CREATE TABLE switchboard_lease (
	id         INTEGER     PRIMARY KEY CHECK (id = 1),
	holder     TEXT        NOT NULL,
	epoch      BIGINT      NOT NULL,
	expires_at TIMESTAMPTZ NOT NULL
);
INSERT INTO switchboard_lease (id, holder, epoch, expires_at) VALUES (1, '', 0, to_timestamp(0));
