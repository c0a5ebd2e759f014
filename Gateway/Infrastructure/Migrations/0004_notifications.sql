-- Merchant notifications, delivered from the outbox: when the next attempt is due, how many were
-- made, when delivery succeeded, gave up (flagged for operators) or was superseded by a later
-- state; every attempt recorded. Merchants may allow-list private addresses and pin a
-- self-signed TLS certificate; an order may choose its own delivery mode.
ALTER TABLE outbox
    ADD COLUMN attempts        integer     NOT NULL DEFAULT 0,
    ADD COLUMN next_attempt_at timestamptz,
    ADD COLUMN last_error      text,
    ADD COLUMN given_up_at     timestamptz,
    ADD COLUMN superseded_at   timestamptz;
UPDATE outbox SET next_attempt_at = created_at WHERE topic = 'notification' AND delivered_at IS NULL;
CREATE INDEX outbox_notifications_due ON outbox (next_attempt_at)
    WHERE topic = 'notification' AND delivered_at IS NULL AND given_up_at IS NULL AND superseded_at IS NULL;

CREATE TABLE notification_attempts (
    outbox_id    bigint           NOT NULL REFERENCES outbox (outbox_id),
    attempt      integer          NOT NULL,
    attempted_at timestamptz      NOT NULL,
    url          text             NOT NULL,
    status_code  integer,
    latency_ms   double precision NOT NULL,
    error        text,
    PRIMARY KEY (outbox_id, attempt)
);

ALTER TABLE merchants
    ADD COLUMN notify_allow_list  text[] NOT NULL DEFAULT '{}',
    ADD COLUMN tls_pinned_sha256  text CHECK (tls_pinned_sha256 ~ '^[0-9a-f]{64}$');

ALTER TABLE orders ADD COLUMN notification_mode text CHECK (notification_mode IN ('realtime', 'deferred', 'redirect'));

-- A refund the platform makes itself: the full amount back when a real-time merchant could not be
-- told the payment succeeded. Once the issuer takes it, the order is failed.
-- The bank that answered a payment (ISO 8583 field 100): settlement books its receivable.
ALTER TABLE payments ADD COLUMN issuer_id text;

ALTER TABLE refunds ADD COLUMN kind text NOT NULL DEFAULT 'refund' CHECK (kind IN ('refund', 'reversal'));
