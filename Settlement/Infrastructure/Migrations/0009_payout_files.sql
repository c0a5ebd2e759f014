-- Payouts by ISO 20022: the close makes a payment instruction file (pain.001) of the pending
-- batches it can pay, the bank's status report (pain.002) moves each transfer to paid or
-- rejected. A batch is pending, then sent (on a file), then paid or rejected; a rejected one is
-- sent again on the next day's file or paid by hand.
ALTER TABLE batches DROP CONSTRAINT batches_fund_status_check;
ALTER TABLE batches ADD CONSTRAINT batches_fund_status_check CHECK (fund_status IN ('pending', 'sent', 'paid', 'rejected'));
ALTER TABLE batches ADD COLUMN fund_reason text;

-- Each merchant's settlement account, as the gateway's events carry it (the latest wins).
CREATE TABLE merchant_payout_accounts (
    merchant_id text        PRIMARY KEY,
    account     text        NOT NULL,
    updated_at  timestamptz NOT NULL
);

CREATE TABLE payout_files (
    msg_id            text        PRIMARY KEY,
    settlement_date   date        NOT NULL REFERENCES settlement_days (settlement_date),
    currency          text        NOT NULL,
    transactions      integer     NOT NULL CHECK (transactions > 0),
    control_sum_minor bigint      NOT NULL CHECK (control_sum_minor > 0),
    content           bytea       NOT NULL,
    created_at        timestamptz NOT NULL,
    UNIQUE (settlement_date, currency)
);

CREATE TABLE payout_transfers (
    transfer_id      text        PRIMARY KEY,
    msg_id           text        NOT NULL REFERENCES payout_files (msg_id),
    end_to_end_id    text        NOT NULL,
    batch_id         bigint      NOT NULL REFERENCES batches (batch_id),
    amount_minor     bigint      NOT NULL CHECK (amount_minor > 0),
    status           text        NOT NULL CHECK (status IN ('sent', 'paid', 'rejected')),
    reason           text,
    reported_at      timestamptz,
    UNIQUE (msg_id, end_to_end_id)
);
-- A batch has at most one transfer the bank has not rejected: it is never paid twice.
CREATE UNIQUE INDEX payout_transfers_one_live_per_batch ON payout_transfers (batch_id) WHERE status <> 'rejected';

-- The bank's status reports, kept as received: the same report again changes nothing.
CREATE TABLE payout_reports (
    msg_id          text        PRIMARY KEY,
    orgnl_msg_id    text        NOT NULL REFERENCES payout_files (msg_id),
    content_sha256  bytea       NOT NULL,
    paid            integer     NOT NULL,
    rejected        integer     NOT NULL,
    received_at     timestamptz NOT NULL
);
