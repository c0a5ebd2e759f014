-- Keys held by the Hsm, each only as a key block under the LMK (never in clear).
CREATE TABLE key_blocks (
    key_id      text        PRIMARY KEY,
    key_type    text        NOT NULL,
    key_block   bytea       NOT NULL,
    check_value text        NOT NULL,
    lmk_check_value text    NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
