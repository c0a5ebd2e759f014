-- The platform's own operators sign in to the operator console with the same accounts, sessions
-- and audit as merchants' people, in the realm 'platform' and with platform roles.
ALTER TABLE console_users DROP CONSTRAINT console_users_merchant_id_fkey;
ALTER TABLE console_users DROP CONSTRAINT console_users_role_check;
ALTER TABLE console_users ADD CONSTRAINT console_users_realm_and_role CHECK (
    (merchant_id ~ '^[0-9]{15}$' AND role IN ('admin', 'operator', 'viewer'))
    OR (merchant_id = 'platform' AND role IN ('platform-admin', 'platform-operator')));
