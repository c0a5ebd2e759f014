-- The merchant console: a merchant's people (merchant id + operator id + password, hashed with
-- PBKDF2-SHA256), their sessions (only a hash of the cookie is kept) and the audit log of logins,
-- refunds and setting changes.
CREATE TABLE console_users (
    merchant_id    text        NOT NULL REFERENCES merchants (merchant_id),
    operator_id    text        NOT NULL CHECK (operator_id ~ '^[0-9A-Za-z_.-]{1,32}$'),
    role           text        NOT NULL CHECK (role IN ('admin', 'operator', 'viewer')),
    password_hash  bytea       NOT NULL,
    password_salt  bytea       NOT NULL,
    iterations     integer     NOT NULL CHECK (iterations >= 600000),
    failed_logins  integer     NOT NULL DEFAULT 0,
    locked_until   timestamptz,
    created_at     timestamptz NOT NULL,
    PRIMARY KEY (merchant_id, operator_id)
);

CREATE TABLE console_sessions (
    session_hash   bytea       PRIMARY KEY,
    merchant_id    text        NOT NULL,
    operator_id    text        NOT NULL,
    role           text        NOT NULL,
    csrf_token     text        NOT NULL,
    created_at     timestamptz NOT NULL,
    last_seen_at   timestamptz NOT NULL,
    FOREIGN KEY (merchant_id, operator_id) REFERENCES console_users (merchant_id, operator_id)
);

CREATE TABLE console_audit (
    audit_id     bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    merchant_id  text        NOT NULL,
    operator_id  text        NOT NULL,
    action       text        NOT NULL,
    detail       text        NOT NULL,
    trace_id     text,
    at           timestamptz NOT NULL
);
CREATE INDEX console_audit_by_merchant ON console_audit (merchant_id, at);
