-- The bank that holds a merchant's settlement account (a BIC; NULL: the platform's own settlement
-- bank), carried to settlement with its account: each bank gets its own payment file.
ALTER TABLE merchants ADD COLUMN settlement_bank text;
