-- The write path of the ledger, made lean: a journal line's foreign keys cost two lookups each
-- (and a share lock on the busiest accounts' rows, taken by every writer at once), and the index
-- by account was read only by the day's close, which now reads the day's entries instead. The
-- writer inserts an entry, its lines and any new account in one transaction; Verify checks that
-- every line has its entry and its account.
ALTER TABLE journal_lines DROP CONSTRAINT journal_lines_entry_id_fkey;
ALTER TABLE journal_lines DROP CONSTRAINT journal_lines_account_id_fkey;
DROP INDEX journal_lines_by_account;
