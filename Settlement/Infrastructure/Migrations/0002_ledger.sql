-- The double-entry ledger. Accounts hold a cached balance (debits positive); journal entries are
-- append-only (a correction is a new entry) and each one's lines sum to zero, checked by the
-- database at every insert. A settlement date closes once: a batch per merchant and currency, a
-- position per issuing bank.
ALTER TABLE accounts DROP CONSTRAINT accounts_kind_check;
ALTER TABLE accounts ALTER COLUMN currency TYPE text;
ALTER TABLE accounts ADD CONSTRAINT accounts_kind_check
    CHECK (kind IN ('merchant_payable', 'issuer_receivable', 'fee_income', 'refunds', 'suspense', 'cash'));
ALTER TABLE accounts ADD COLUMN balance_minor bigint NOT NULL DEFAULT 0;

CREATE TABLE journal_entries (
    entry_id                bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    transaction_id          text        NOT NULL UNIQUE,
    kind                    text        NOT NULL CHECK (kind IN ('purchase', 'refund', 'reversal', 'refunds_cleared', 'payout')),
    settlement_date         date        NOT NULL,
    merchant_id             text,
    order_id                text,
    issuer_id               text,
    amount_minor            bigint      NOT NULL,
    fee_minor               bigint      NOT NULL DEFAULT 0,
    currency                text        NOT NULL,
    pan_masked              text,
    rrn                     text,
    stan                    text,
    original_entry_id       bigint      REFERENCES journal_entries (entry_id),
    occurred_at             timestamptz NOT NULL,
    recorded_at             timestamptz NOT NULL
);
CREATE INDEX journal_entries_by_day ON journal_entries (settlement_date, merchant_id);
CREATE INDEX journal_entries_by_order ON journal_entries (merchant_id, order_id) WHERE kind = 'purchase';

CREATE TABLE journal_lines (
    entry_id     bigint NOT NULL REFERENCES journal_entries (entry_id),
    line_no      smallint NOT NULL,
    account_id   text   NOT NULL REFERENCES accounts (account_id),
    amount_minor bigint NOT NULL,
    PRIMARY KEY (entry_id, line_no)
);
CREATE INDEX journal_lines_by_account ON journal_lines (account_id);

-- Every entry inserted by a statement has at least two lines summing to zero.
CREATE FUNCTION journal_lines_balance() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    bad bigint;
BEGIN
    SELECT entry_id INTO bad FROM new_lines GROUP BY entry_id HAVING sum(amount_minor) <> 0 OR count(*) < 2 LIMIT 1;
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'journal entry % does not balance', bad USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER journal_lines_balance AFTER INSERT ON journal_lines
    REFERENCING NEW TABLE AS new_lines FOR EACH STATEMENT EXECUTE FUNCTION journal_lines_balance();

-- Append-only.
CREATE FUNCTION journal_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the journal is append-only: % on % refused', TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER journal_entries_append_only BEFORE UPDATE OR DELETE ON journal_entries FOR EACH ROW EXECUTE FUNCTION journal_is_append_only();
CREATE TRIGGER journal_lines_append_only BEFORE UPDATE OR DELETE ON journal_lines FOR EACH ROW EXECUTE FUNCTION journal_is_append_only();

CREATE TABLE settlement_days (
    settlement_date date        PRIMARY KEY,
    closed_at       timestamptz NOT NULL
);

CREATE TABLE batches (
    batch_id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    settlement_date   date        NOT NULL REFERENCES settlement_days (settlement_date),
    merchant_id       text        NOT NULL,
    currency          text        NOT NULL,
    gross_sales_minor bigint      NOT NULL,
    refunds_minor     bigint      NOT NULL,
    fees_minor        bigint      NOT NULL,
    adjustments_minor bigint      NOT NULL,
    net_payable_minor bigint      NOT NULL,
    transactions      integer     NOT NULL,
    fund_status       text        NOT NULL DEFAULT 'pending' CHECK (fund_status IN ('pending', 'paid')),
    payout_reference  text,
    paid_at           timestamptz,
    created_at        timestamptz NOT NULL,
    UNIQUE (settlement_date, merchant_id, currency)
);

CREATE TABLE issuer_positions (
    settlement_date date   NOT NULL REFERENCES settlement_days (settlement_date),
    issuer_id       text   NOT NULL,
    currency        text   NOT NULL,
    net_minor       bigint NOT NULL,
    PRIMARY KEY (settlement_date, issuer_id, currency)
);

-- Reconciliation files of a closed date, per merchant: the detail and the totals, each with the
-- platform's detached signature, made once and kept.
CREATE TABLE reconciliation_files (
    settlement_date date        NOT NULL REFERENCES settlement_days (settlement_date),
    merchant_id     text        NOT NULL,
    kind            text        NOT NULL CHECK (kind IN ('detail', 'totals')),
    content         bytea       NOT NULL,
    signature       bytea       NOT NULL,
    lines           integer     NOT NULL,
    created_at      timestamptz NOT NULL,
    PRIMARY KEY (settlement_date, merchant_id, kind)
);
