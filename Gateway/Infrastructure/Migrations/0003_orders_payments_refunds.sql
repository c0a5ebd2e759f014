-- Orders as merchants send them (NetPay form or /v1 JSON), the consumer's payment sessions and card
-- payments, refunds, Idempotency-Key records and the outbox. A card number is kept only as the
-- Hsm's ciphertext, a keyed hash for look-ups and its masked form.
CREATE TABLE orders (
    merchant_id     text        NOT NULL REFERENCES merchants (merchant_id),
    order_id        text        NOT NULL CHECK (order_id ~ '^[0-9A-Za-z_-]{1,32}$'),
    protocol        text        NOT NULL CHECK (protocol IN ('netpay', 'v1')),
    amount_minor    bigint      NOT NULL CHECK (amount_minor > 0),
    currency        text        NOT NULL,
    trans_date      text        NOT NULL CHECK (trans_date ~ '^[0-9]{8}$'),
    trans_type      text        NOT NULL,
    netpay_version  text,
    bg_ret_url      text,
    page_ret_url    text,
    gate_id         text,
    priv1           text,
    status          text        NOT NULL CHECK (status IN ('created', 'pending', 'paid', 'failed')),
    -- Goes up with every change of state: answers carry it, so a late one cannot roll a state back.
    version         integer     NOT NULL DEFAULT 1,
    attempts        integer     NOT NULL DEFAULT 1,
    response_code   text,
    result_message  text,
    paid_minor      bigint      NOT NULL DEFAULT 0,
    refunded_minor  bigint      NOT NULL DEFAULT 0 CHECK (refunded_minor >= 0 AND refunded_minor <= paid_minor),
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    paid_at         timestamptz,
    PRIMARY KEY (merchant_id, order_id)
);
CREATE INDEX orders_by_time ON orders (merchant_id, created_at, order_id);

CREATE TABLE payment_sessions (
    session_id      text        PRIMARY KEY,
    merchant_id     text        NOT NULL,
    order_id        text        NOT NULL,
    order_attempt   integer     NOT NULL,
    csrf_token      text        NOT NULL,
    pin_nonce       text        NOT NULL,
    wrong_pins      integer     NOT NULL DEFAULT 0,
    status          text        NOT NULL CHECK (status IN ('open', 'paying', 'done')),
    expires_at      timestamptz NOT NULL,
    created_at      timestamptz NOT NULL,
    FOREIGN KEY (merchant_id, order_id) REFERENCES orders (merchant_id, order_id)
);

CREATE TABLE payments (
    payment_id      bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    merchant_id     text        NOT NULL,
    order_id        text        NOT NULL,
    session_id      text        NOT NULL REFERENCES payment_sessions (session_id),
    pan_masked      text        NOT NULL,
    pan_ciphertext  bytea       NOT NULL,
    pan_hash        bytea       NOT NULL,
    expiry          text        NOT NULL,
    amount_minor    bigint      NOT NULL,
    currency        text        NOT NULL,
    stan            text        NOT NULL,
    transmission    text        NOT NULL,
    rrn             text        NOT NULL,
    request         bytea       NOT NULL,
    status          text        NOT NULL CHECK (status IN ('sent', 'approved', 'declined', 'unknown', 'reversed')),
    response_code   text,
    auth_code       text,
    created_at      timestamptz NOT NULL,
    answered_at     timestamptz,
    FOREIGN KEY (merchant_id, order_id) REFERENCES orders (merchant_id, order_id),
    UNIQUE (stan, transmission)
);
CREATE INDEX payments_of_order ON payments (merchant_id, order_id);
CREATE INDEX payments_unresolved ON payments (created_at) WHERE status IN ('sent', 'unknown');

CREATE TABLE refunds (
    merchant_id     text        NOT NULL,
    refund_id       text        NOT NULL CHECK (refund_id ~ '^[0-9A-Za-z_-]{1,32}$'),
    order_id        text        NOT NULL,
    payment_id      bigint      NOT NULL REFERENCES payments (payment_id),
    amount_minor    bigint      NOT NULL CHECK (amount_minor > 0),
    currency        text        NOT NULL,
    status          text        NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    stan            text        NOT NULL,
    transmission    text        NOT NULL,
    request         bytea       NOT NULL,
    response_code   text,
    created_at      timestamptz NOT NULL,
    answered_at     timestamptz,
    PRIMARY KEY (merchant_id, refund_id),
    FOREIGN KEY (merchant_id, order_id) REFERENCES orders (merchant_id, order_id)
);
CREATE INDEX refunds_of_order ON refunds (merchant_id, order_id);
CREATE INDEX refunds_unresolved ON refunds (created_at) WHERE status = 'pending';

-- STANs of the acquirer's requests (purchases and refunds), as ISO 8583 numbers them.
CREATE SEQUENCE acquirer_stan MINVALUE 1 MAXVALUE 999999 CYCLE;

-- Stripe's semantics: a key is the merchant's, kept 24 hours; the same key with the same request
-- replays the first answer, with another request is refused, and while the first runs is a conflict.
CREATE TABLE idempotency_keys (
    merchant_id     text        NOT NULL,
    idempotency_key text        NOT NULL,
    request_hash    bytea       NOT NULL,
    response_status integer,
    response_body   text,
    created_at      timestamptz NOT NULL,
    PRIMARY KEY (merchant_id, idempotency_key)
);

-- Written in the same transaction as the state it reports: the notification issue delivers
-- 'notification' rows to merchants, the settlement issue 'settlement' rows to the ledger.
CREATE TABLE outbox (
    outbox_id       bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    topic           text        NOT NULL CHECK (topic IN ('notification', 'settlement')),
    merchant_id     text        NOT NULL,
    order_id        text        NOT NULL,
    order_version   integer     NOT NULL,
    payload         jsonb       NOT NULL,
    created_at      timestamptz NOT NULL,
    delivered_at    timestamptz
);
CREATE INDEX outbox_undelivered ON outbox (outbox_id) WHERE delivered_at IS NULL;
