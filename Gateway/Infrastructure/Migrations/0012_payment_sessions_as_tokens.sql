-- Payment sessions are sealed tokens the page carries (PaymentSessions): no row per visit.
-- A payment keeps the id of the visit it came from.
ALTER TABLE payments DROP CONSTRAINT payments_session_id_fkey;
DROP TABLE payment_sessions;

-- The Data Protection key ring that seals them, shared by the gateway's replicas.
CREATE TABLE page_token_keys (
    key_name    text        PRIMARY KEY,
    xml         text        NOT NULL,
    stored_at   timestamptz NOT NULL
);
