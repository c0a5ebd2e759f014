-- The PIN's length at issuance: a PIN of another length fails verification in the Hsm (a Visa PVV
-- covers only the first four digits, so without it 1234 followed by anything would pass).
ALTER TABLE cards ADD COLUMN pin_length smallint NOT NULL DEFAULT 6 CHECK (pin_length BETWEEN 4 AND 12);
