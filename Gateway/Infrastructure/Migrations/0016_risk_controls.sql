-- Risk controls, checked before a card payment goes to the switch. A card is known here only by the
-- Hsm's keyed lookup hash of its number (the same one payments.pan_hash holds), never its number.

-- Per-merchant limits in one currency: the operator's caps, and the merchant's own, which may only be
-- tighter (the gateway checks it; the effective limit is the smaller of the two). NULL: no limit.
CREATE TABLE risk_merchant_limits (
    merchant_id                 text        NOT NULL REFERENCES merchants (merchant_id),
    currency                    text        NOT NULL,
    cap_per_payment_minor       bigint      CHECK (cap_per_payment_minor > 0),
    cap_per_day_minor           bigint      CHECK (cap_per_day_minor > 0),
    merchant_per_payment_minor  bigint      CHECK (merchant_per_payment_minor > 0),
    merchant_per_day_minor      bigint      CHECK (merchant_per_day_minor > 0),
    updated_at                  timestamptz NOT NULL,
    PRIMARY KEY (merchant_id, currency)
);

-- What each merchant has taken on a settlement business day: approved amounts, and amounts in
-- flight (held when sent, given back when declined or reversed). The row is the lock two racing
-- payments queue on.
CREATE TABLE risk_merchant_days (
    merchant_id     text    NOT NULL,
    currency        text    NOT NULL,
    business_day    date    NOT NULL,
    used_minor      bigint  NOT NULL CHECK (used_minor >= 0),
    PRIMARY KEY (merchant_id, currency, business_day)
);

-- Per card (lookup hash) and fixed window: every attempt sent to the switch, and the amounts
-- approved or in flight.
CREATE TABLE risk_card_windows (
    pan_hash        bytea       NOT NULL,
    window_start    timestamptz NOT NULL,
    attempts        integer     NOT NULL CHECK (attempts >= 0),
    amount_minor    bigint      NOT NULL CHECK (amount_minor >= 0),
    PRIMARY KEY (pan_hash, window_start)
);
CREATE INDEX risk_card_windows_by_age ON risk_card_windows (window_start);

-- What one payment holds of the two counters, so its decline or reversal gives back exactly that, once.
CREATE TABLE risk_holds (
    payment_id      bigint      PRIMARY KEY REFERENCES payments (payment_id),
    merchant_id     text        NOT NULL,
    currency        text        NOT NULL,
    business_day    date        NOT NULL,
    pan_hash        bytea       NOT NULL,
    window_start    timestamptz NOT NULL,
    amount_minor    bigint      NOT NULL,
    released_at     timestamptz
);

-- The platform's velocity settings, one row; a limit of 0 is off.
CREATE TABLE risk_velocity (
    singleton           boolean     PRIMARY KEY DEFAULT true CHECK (singleton),
    attempts_max        integer     NOT NULL CHECK (attempts_max >= 0),
    amount_minor_max    bigint      NOT NULL CHECK (amount_minor_max >= 0),
    window_minutes      integer     NOT NULL CHECK (window_minutes > 0),
    updated_at          timestamptz NOT NULL
);

-- Blocked cards (by lookup hash, with the masked number for people to recognise) and networks
-- (an address or a CIDR prefix, IPv4 or IPv6).
CREATE TABLE risk_blocks (
    block_id        bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind            text        NOT NULL CHECK (kind IN ('card', 'network')),
    pan_hash        bytea,
    pan_masked      text,
    network         cidr,
    reason          text        NOT NULL CHECK (length(reason) <= 200),
    created_by      text        NOT NULL,
    created_at      timestamptz NOT NULL,
    CHECK ((kind = 'card' AND pan_hash IS NOT NULL AND pan_masked IS NOT NULL AND network IS NULL)
        OR (kind = 'network' AND network IS NOT NULL AND pan_hash IS NULL AND pan_masked IS NULL))
);
CREATE UNIQUE INDEX risk_blocks_card ON risk_blocks (pan_hash) WHERE kind = 'card';
CREATE UNIQUE INDEX risk_blocks_network ON risk_blocks (network) WHERE kind = 'network';

-- Every refusal, at order creation (no card yet) or at payment.
CREATE TABLE risk_refusals (
    refusal_id      bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    merchant_id     text        NOT NULL,
    order_id        text        NOT NULL,
    rule            text        NOT NULL,
    amount_minor    bigint      NOT NULL,
    currency        text        NOT NULL,
    pan_masked      text,
    network         inet,
    detail          text        NOT NULL,
    refused_at      timestamptz NOT NULL
);
CREATE INDEX risk_refusals_by_time ON risk_refusals (refused_at DESC, refusal_id DESC);
CREATE INDEX risk_refusals_of_merchant ON risk_refusals (merchant_id, refused_at DESC);
