-- Merchants come and go: an operator suspends one (no new orders or payments; refunds, queries,
-- notifications and settlement go on), reactivates it, or offboards it ('offboarding', then
-- 'closed' once its last settlement batch is paid). A closed merchant's rows stay until
-- retain_until (Gateway:MerchantRetentionDays after it closed); the gateway deletes nothing.
ALTER TABLE merchants DROP CONSTRAINT merchants_status_check;
ALTER TABLE merchants ADD CONSTRAINT merchants_status_check CHECK (status IN ('active', 'suspended', 'offboarding', 'closed'));
ALTER TABLE merchants
    ADD COLUMN status_reason     text,
    ADD COLUMN status_changed_at timestamptz,
    ADD COLUMN retain_until      timestamptz,
    ADD CONSTRAINT merchants_closed_retained CHECK ((status = 'closed') = (retain_until IS NOT NULL));
-- The offboarding sweep's look-up: few rows, read every poll.
CREATE INDEX merchants_offboarding ON merchants (merchant_id) WHERE status = 'offboarding';
