-- Pre-authorization (预授权): a /v1 order may ask to hold the funds only (capture mode 'hold'). Its
-- payment is a 0100 hold; the order is then 'authorized' until the merchant captures it (once, up to
-- the amount held: the order is 'capturing' while the completion is out, then 'paid' at the captured
-- amount), releases it ('released'), or the hold expires and the platform releases it ('expired').
-- A capture is a completion (0200, condition 06) of the hold; a release a reversal (0420) of it.
ALTER TABLE orders ADD COLUMN capture_mode text NOT NULL DEFAULT 'sale' CHECK (capture_mode IN ('sale', 'hold'));
ALTER TABLE orders ADD COLUMN hold_expires_at timestamptz;
ALTER TABLE orders DROP CONSTRAINT orders_status_check;
ALTER TABLE orders ADD CONSTRAINT orders_status_check
    CHECK (status IN ('created', 'pending', 'paid', 'failed', 'closed', 'voided', 'authorized', 'capturing', 'released', 'expired'));
ALTER TABLE orders ADD CONSTRAINT orders_hold_expires CHECK (status NOT IN ('authorized', 'capturing') OR hold_expires_at IS NOT NULL);
-- What the expiry rounds look for: authorized orders by expiry.
CREATE INDEX orders_holds_to_expire ON orders (hold_expires_at) WHERE status = 'authorized';

-- A hold's capture or release as sent to the switch (the request kept without its card number, to be
-- sent again while its answer is unknown). At most one live (pending or succeeded) per order: a
-- capture and a release, or two captures, can never both take a hold.
CREATE TABLE hold_actions (
    merchant_id     text        NOT NULL,
    order_id        text        NOT NULL,
    kind            text        NOT NULL CHECK (kind IN ('capture', 'release')),
    reason          text        NOT NULL CHECK (reason IN ('merchant', 'expired')),
    amount_minor    bigint      NOT NULL CHECK (amount_minor > 0),
    currency        text        NOT NULL,
    payment_id      bigint      NOT NULL REFERENCES payments (payment_id),
    stan            text        NOT NULL,
    transmission    text        NOT NULL,
    rrn             text        NOT NULL,
    request         bytea       NOT NULL,
    status          text        NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    response_code   text,
    auth_code       text,
    created_at      timestamptz NOT NULL,
    answered_at     timestamptz,
    PRIMARY KEY (stan, transmission),
    FOREIGN KEY (merchant_id, order_id) REFERENCES orders (merchant_id, order_id)
);
CREATE UNIQUE INDEX hold_actions_one_live ON hold_actions (merchant_id, order_id) WHERE status <> 'failed';
CREATE INDEX hold_actions_unresolved ON hold_actions (created_at) WHERE status = 'pending';
