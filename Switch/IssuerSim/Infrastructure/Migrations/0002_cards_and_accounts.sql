-- A bank's cards and accounts (this schema belongs to one bank). No PAN in clear: cards are
-- found by the keyed hash the Hsm computes, and shown by their first 6 and last 4 digits.
CREATE TABLE accounts (
    account_id      text        PRIMARY KEY,
    currency        char(3)     NOT NULL,
    balance_minor   bigint      NOT NULL CHECK (balance_minor >= 0),
    held_minor      bigint      NOT NULL DEFAULT 0 CHECK (held_minor >= 0 AND held_minor <= balance_minor)
);

CREATE TABLE cards (
    pan_hash            bytea       PRIMARY KEY,
    pan_masked          text        NOT NULL,
    expiry              char(4)     NOT NULL,
    status              text        NOT NULL CHECK (status IN ('active', 'lost', 'stolen')),
    pvv                 char(4)     NOT NULL,
    pvki                smallint    NOT NULL,
    account_id          text        NOT NULL REFERENCES accounts,
    daily_limit_minor   bigint      NOT NULL CHECK (daily_limit_minor >= 0),
    wrong_pin_count     integer     NOT NULL DEFAULT 0
);

-- Every authorization and reversal, once: the key is what the switch sends (acquirer, STAN,
-- transmission time), so a repeated message finds its first answer instead of a second debit.
CREATE TABLE authorizations (
    acquirer_id       text        NOT NULL,
    stan              char(6)     NOT NULL,
    transmission      char(10)    NOT NULL,
    pan_hash          bytea       NOT NULL,
    account_id        text,
    amount_minor      bigint      NOT NULL,
    response_code     char(2)     NOT NULL,
    auth_code         char(6),
    reversed_at       timestamptz,
    created_at        timestamptz NOT NULL,
    PRIMARY KEY (acquirer_id, stan, transmission)
);

-- Durable postings: holds on approval, their release on reversal. The account balance and
-- held amount are the sums of these.
CREATE TABLE postings (
    posting_id      bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id      text        NOT NULL REFERENCES accounts,
    kind            text        NOT NULL CHECK (kind IN ('hold', 'hold_release')),
    amount_minor    bigint      NOT NULL,
    acquirer_id     text        NOT NULL,
    stan            char(6)     NOT NULL,
    transmission    char(10)    NOT NULL,
    created_at      timestamptz NOT NULL,
    UNIQUE (acquirer_id, stan, transmission, kind)
);
