-- A key id holds up to three versions while a zone key changes online: the current one (key_block),
-- a pending one (generated or received, accepted but not yet used to make anything) and the
-- previous one, accepted until previous_retires_at. Each is a key block under the same LMK.
ALTER TABLE key_blocks
    ADD COLUMN pending_block        bytea,
    ADD COLUMN pending_check_value  text,
    ADD COLUMN previous_block       bytea,
    ADD COLUMN previous_check_value text,
    ADD COLUMN previous_retires_at  timestamptz,
    ADD COLUMN changed_at           timestamptz;
