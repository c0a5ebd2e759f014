-- BIN routing: the longest prefix of the card number that is here names the issuer.
CREATE TABLE bin_routes (
    prefix  text PRIMARY KEY CHECK (prefix ~ '^[0-9]{1,11}$'),
    issuer  text NOT NULL
);

-- One row per acquirer request: the key that makes a repeated request a duplicate, and the
-- answer it got (replayed to a duplicate).
CREATE TABLE authorizations (
    acquirer_id   text        NOT NULL,
    stan          char(6)     NOT NULL,
    transmission  char(10)    NOT NULL,
    issuer        text,
    pan_masked    text,
    amount_minor  bigint,
    response_code char(2),
    answer        bytea,
    created_at    timestamptz NOT NULL,
    answered_at   timestamptz,
    PRIMARY KEY (acquirer_id, stan, transmission)
);

-- Reversal advices owed to issuers: sent as 0420, repeated as 0421 with back-off, until a 0430.
CREATE TABLE reversals (
    reversal_id      bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    issuer           text        NOT NULL,
    acquirer_id      text        NOT NULL,
    stan             char(6)     NOT NULL,
    transmission     char(10)    NOT NULL,
    amount_minor     bigint      NOT NULL,
    processing_code  char(6)     NOT NULL,
    currency         char(3)     NOT NULL,
    reason           text        NOT NULL,
    attempts         integer     NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL,
    acknowledged_at  timestamptz,
    created_at       timestamptz NOT NULL,
    UNIQUE (acquirer_id, stan, transmission)
);
CREATE INDEX reversals_due ON reversals (next_attempt_at) WHERE acknowledged_at IS NULL;

ALTER TABLE message_journal ADD COLUMN pan_masked text;
ALTER TABLE message_journal ADD COLUMN amount_minor bigint;
ALTER TABLE message_journal DROP CONSTRAINT message_journal_outcome_check;
ALTER TABLE message_journal ADD CONSTRAINT message_journal_outcome_check
    CHECK (outcome IN ('answered', 'timeout', 'link_down', 'error', 'late', 'format_error', 'refused'));
