-- Merchants onboarded on the platform; orders, payments and the outbox arrive with the gateway issue.
CREATE TABLE merchants (
    merchant_id char(15)    PRIMARY KEY CHECK (merchant_id ~ '^[0-9]{15}$'),
    name        text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
