-- The chart of accounts of the double-entry ledger; entries and batches arrive with settlement.
CREATE TABLE accounts (
    account_id  text        PRIMARY KEY,
    kind        text        NOT NULL CHECK (kind IN ('merchant_payable', 'issuer_receivable', 'fee_income', 'refunds', 'suspense')),
    currency    char(3)     NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
