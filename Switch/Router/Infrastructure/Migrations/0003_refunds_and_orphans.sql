-- Advices owed to issuers: reversals (0420, repeated as 0421, for a 0200 or 0100 whose outcome
-- is unknown) and refunds (0220, repeated as 0221, whose first answer never came back). A
-- refund advice carries its purchase's original data elements (field 90).
ALTER TABLE reversals ADD COLUMN advice_mti char(4) NOT NULL DEFAULT '0420' CHECK (advice_mti IN ('0420', '0220'));
ALTER TABLE reversals ADD COLUMN original_mti char(4) NOT NULL DEFAULT '0200';
ALTER TABLE reversals ADD COLUMN original_data char(42);
ALTER TABLE reversals ADD COLUMN response_code char(2);

-- What the switch needs to settle a request it claimed but never answered (it stopped while the
-- request was at the issuer): the route and the message's kind, recorded with the claim.
ALTER TABLE authorizations ADD COLUMN mti char(4);
ALTER TABLE authorizations ADD COLUMN processing_code char(6);
ALTER TABLE authorizations ADD COLUMN currency char(3);
ALTER TABLE authorizations ADD COLUMN original_data char(42);
CREATE INDEX authorizations_unanswered ON authorizations (created_at) WHERE answered_at IS NULL;

-- Keys are text: a char(n) column compared with a text parameter is cast per row, so the primary
-- key could not be used and every answer's UPDATE scanned the table.
ALTER TABLE authorizations ALTER COLUMN stan TYPE text, ALTER COLUMN transmission TYPE text,
    ALTER COLUMN response_code TYPE text, ALTER COLUMN mti TYPE text, ALTER COLUMN processing_code TYPE text,
    ALTER COLUMN currency TYPE text, ALTER COLUMN original_data TYPE text;
ALTER TABLE reversals ALTER COLUMN stan TYPE text, ALTER COLUMN transmission TYPE text,
    ALTER COLUMN processing_code TYPE text, ALTER COLUMN currency TYPE text, ALTER COLUMN advice_mti TYPE text,
    ALTER COLUMN original_mti TYPE text, ALTER COLUMN original_data TYPE text, ALTER COLUMN response_code TYPE text;
ALTER TABLE message_journal ALTER COLUMN mti TYPE text, ALTER COLUMN stan TYPE text,
    ALTER COLUMN network_code TYPE text, ALTER COLUMN response_code TYPE text;
