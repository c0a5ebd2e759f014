-- A merchant's key rotates with an overlap: the key it replaced keeps verifying until
-- previous_key_expires_at, compared with the gateway's clock at each verification (no job has to
-- remove it). At most two keys verify: a rotation during an overlap drops the oldest.
ALTER TABLE merchants
    ADD COLUMN previous_key_spki       bytea,
    ADD COLUMN previous_key_algorithm  text CHECK (previous_key_algorithm IN ('rsa', 'ecdsa-p256')),
    ADD COLUMN previous_key_bits       integer,
    ADD COLUMN previous_key_expires_at timestamptz,
    ADD CONSTRAINT merchants_previous_key_whole CHECK (
        (previous_key_spki IS NULL) = (previous_key_expires_at IS NULL)
        AND (previous_key_spki IS NULL) = (previous_key_algorithm IS NULL));
