-- Interbank clearing: the switch's authorizations come into the ledger as the issuer's side of each
-- payment. The gateway's entries and the switch's meet in one clearing account per currency,
-- which nets to zero when every payment reached both; the banks' receivables move with the switch.
ALTER TABLE accounts DROP CONSTRAINT accounts_kind_check;
ALTER TABLE accounts ADD CONSTRAINT accounts_kind_check
    CHECK (kind IN ('merchant_payable', 'issuer_receivable', 'fee_income', 'refunds', 'suspense', 'cash', 'interbank_clearing'));
ALTER TABLE journal_entries DROP CONSTRAINT journal_entries_kind_check;
ALTER TABLE journal_entries ADD CONSTRAINT journal_entries_kind_check
    CHECK (kind IN ('purchase', 'refund', 'reversal', 'refunds_cleared', 'payout', 'interbank_purchase', 'interbank_refund'));

-- How far the switch's authorizations have been taken in: everything received before taken_to.
CREATE TABLE interbank_intake (
    id        smallint    PRIMARY KEY CHECK (id = 1),
    taken_to  timestamptz NOT NULL
);
INSERT INTO interbank_intake (id, taken_to) VALUES (1, '2000-01-01T00:00:00Z');

-- What the gateway's and the switch's sides of a closed date differ by, per currency: the
-- clearing account's movement on the date (zero when every payment reached both).
CREATE TABLE clearing_differences (
    settlement_date date   NOT NULL REFERENCES settlement_days (settlement_date),
    currency        text   NOT NULL,
    amount_minor    bigint NOT NULL,
    PRIMARY KEY (settlement_date, currency)
);
