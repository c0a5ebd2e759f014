-- What onboarding records of a merchant: the key its orders are signed with (a public key or an
-- X.509 certificate, kept as SubjectPublicKeyInfo), how it is told results, its fee and where
-- its money goes. Keys are text: a char(n) key compared with a text parameter scans the table.
ALTER TABLE merchants ALTER COLUMN merchant_id TYPE text;
ALTER TABLE merchants
    ADD COLUMN status                text    NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
    ADD COLUMN public_key_spki       bytea,
    ADD COLUMN key_algorithm         text    CHECK (key_algorithm IN ('rsa', 'ecdsa-p256')),
    ADD COLUMN key_bits              integer,
    ADD COLUMN certificate_pem       text,
    ADD COLUMN notification_mode     text    NOT NULL DEFAULT 'realtime' CHECK (notification_mode IN ('realtime', 'deferred', 'redirect')),
    ADD COLUMN notification_protocol text    NOT NULL DEFAULT 'plain' CHECK (notification_protocol IN ('plain', 'envelope', 'https')),
    ADD COLUMN fee_rate_ppm          integer NOT NULL DEFAULT 0 CHECK (fee_rate_ppm BETWEEN 0 AND 100000),
    ADD COLUMN fee_minimum_minor     bigint  NOT NULL DEFAULT 0 CHECK (fee_minimum_minor >= 0),
    ADD COLUMN settlement_account    text;
