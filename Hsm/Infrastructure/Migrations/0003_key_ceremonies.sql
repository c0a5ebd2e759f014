-- Dual control: a key formed from custodians' components. Each component is held sealed under the
-- LMK until the last one forms the key; then the ceremony and its components are deleted.
CREATE TABLE key_ceremonies (
    key_id              text        PRIMARY KEY,
    key_type            text        NOT NULL,
    algorithm           text        NOT NULL,
    policy              text        NOT NULL,
    components_required smallint    NOT NULL CHECK (components_required BETWEEN 2 AND 3),
    started_at          timestamptz NOT NULL
);
CREATE TABLE key_ceremony_components (
    key_id          text        NOT NULL REFERENCES key_ceremonies (key_id) ON DELETE CASCADE,
    custodian       text        NOT NULL,
    component_block bytea       NOT NULL,
    lmk_check_value text        NOT NULL,
    submitted_at    timestamptz NOT NULL,
    PRIMARY KEY (key_id, custodian)
);
