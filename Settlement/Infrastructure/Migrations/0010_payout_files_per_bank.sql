-- One payment file per settlement bank: each merchant's account is held at a bank (its BIC, as the
-- gateway's events carry it; empty: the platform's own settlement bank), and the close writes one
-- pain.001 per bank and date, each with its own totals. A file made before names the platform's bank.
ALTER TABLE merchant_payout_accounts ADD COLUMN bank_bic text NOT NULL DEFAULT '';
ALTER TABLE payout_files ADD COLUMN creditor_agent_bic text NOT NULL DEFAULT '';
ALTER TABLE payout_files DROP CONSTRAINT payout_files_settlement_date_currency_key;
ALTER TABLE payout_files ADD CONSTRAINT payout_files_one_per_bank UNIQUE (settlement_date, currency, creditor_agent_bic);
