-- A 0200 is a financial transaction (a debit), a 0100 a pre-authorization (a hold), its
-- completion a 0200 that releases the hold and debits, a 0220 a refund (a credit). A posting
-- says what it does to the balance and to the held amount; a reversal posts the opposite of
-- what the reversed message posted, once.
ALTER TABLE postings ADD COLUMN balance_delta_minor bigint NOT NULL DEFAULT 0;
ALTER TABLE postings ADD COLUMN held_delta_minor bigint NOT NULL DEFAULT 0;
UPDATE postings SET held_delta_minor = amount_minor;
ALTER TABLE postings DROP COLUMN amount_minor;
ALTER TABLE postings DROP CONSTRAINT postings_kind_check;
ALTER TABLE postings ADD CONSTRAINT postings_kind_check
    CHECK (kind IN ('hold', 'hold_release', 'debit', 'credit', 'reversal'));
ALTER TABLE postings DROP CONSTRAINT postings_acquirer_id_stan_transmission_kind_key;
CREATE INDEX postings_message ON postings (acquirer_id, stan, transmission);

-- What each message was, and what points back at its original (a completion at its
-- pre-authorization, a refund at its purchase).
ALTER TABLE authorizations ADD COLUMN kind text NOT NULL DEFAULT 'purchase'
    CHECK (kind IN ('purchase', 'preauth', 'completion', 'refund', 'reversal_only'));
ALTER TABLE authorizations ADD COLUMN original_acquirer_id text;
ALTER TABLE authorizations ADD COLUMN original_stan char(6);
ALTER TABLE authorizations ADD COLUMN original_transmission char(10);
ALTER TABLE authorizations ADD COLUMN refunded_minor bigint NOT NULL DEFAULT 0 CHECK (refunded_minor >= 0);
ALTER TABLE authorizations ADD COLUMN completed_at timestamptz;
UPDATE authorizations SET kind = 'reversal_only' WHERE response_code = '12' AND reversed_at IS NOT NULL AND account_id IS NULL;

-- The day's approved spending per card, kept on the card instead of summed per purchase.
ALTER TABLE cards ADD COLUMN spent_on date;
ALTER TABLE cards ADD COLUMN spent_today_minor bigint NOT NULL DEFAULT 0;

-- Keys are text: a char(n) column compared with a text parameter is cast per row, so the primary
-- key could not be used and every duplicate check scanned the table.
ALTER TABLE authorizations ALTER COLUMN stan TYPE text, ALTER COLUMN transmission TYPE text,
    ALTER COLUMN response_code TYPE text, ALTER COLUMN auth_code TYPE text,
    ALTER COLUMN original_stan TYPE text, ALTER COLUMN original_transmission TYPE text;
ALTER TABLE postings ALTER COLUMN stan TYPE text, ALTER COLUMN transmission TYPE text;
ALTER TABLE cards ALTER COLUMN expiry TYPE text, ALTER COLUMN pvv TYPE text;
ALTER TABLE accounts ALTER COLUMN currency TYPE text;
