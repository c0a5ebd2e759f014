-- Credit cards: paid with expiry and CVV2 instead of a PIN, so they have no PVV. Some ask the
-- cardholder for a one-time code (otp_required). Neither the CVV2 nor a code is ever stored: the
-- CVV2 is checked in the Hsm under the bank's CVK, and a code is kept only as its keyed hash.
ALTER TABLE cards ADD COLUMN product text NOT NULL DEFAULT 'debit' CHECK (product IN ('debit', 'credit'));
ALTER TABLE cards ADD COLUMN otp_required boolean NOT NULL DEFAULT false;
ALTER TABLE cards ALTER COLUMN pvv DROP NOT NULL;
ALTER TABLE cards ADD CONSTRAINT cards_debit_has_pvv CHECK (product = 'credit' OR pvv IS NOT NULL);

-- A one-time code sent to the cardholder for the purchase the bank answered 1A (its key is that
-- message's): the code's keyed hash (Hsm LookupHash under the bank's DEK), until when it may be
-- used, how many wrong codes were tried (at most a few, counted under the row's lock so parallel
-- guesses cannot exceed it), and when the right one was used (once).
CREATE TABLE otp_challenges (
    acquirer_id     text        NOT NULL,
    stan            text        NOT NULL,
    transmission    text        NOT NULL,
    pan_hash        bytea       NOT NULL,
    amount_minor    bigint      NOT NULL CHECK (amount_minor >= 0),
    code_hash       bytea       NOT NULL,
    wrong_codes     integer     NOT NULL DEFAULT 0 CHECK (wrong_codes >= 0),
    expires_at      timestamptz NOT NULL,
    used_at         timestamptz,
    created_at      timestamptz NOT NULL,
    PRIMARY KEY (acquirer_id, stan, transmission)
);
