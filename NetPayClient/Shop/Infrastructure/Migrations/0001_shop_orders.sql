-- The shop's own records: its orders, what is in them, and the notifications it has handled.
CREATE TABLE shop_orders (
    order_id      text PRIMARY KEY,
    amount_minor  bigint      NOT NULL CHECK (amount_minor > 0),
    currency      text        NOT NULL,
    items         text        NOT NULL,
    status        text        NOT NULL,
    order_version bigint      NOT NULL DEFAULT 0,
    masked_pan    text,
    refunded_minor bigint     NOT NULL DEFAULT 0,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL
);
CREATE INDEX shop_orders_by_time ON shop_orders (created_at DESC);

CREATE TABLE shop_notifications (
    notification_id text PRIMARY KEY,
    received_at     timestamptz NOT NULL
);
