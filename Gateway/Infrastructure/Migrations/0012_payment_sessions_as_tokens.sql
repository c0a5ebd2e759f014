-- Payment sessions are sealed tokens the page carries (PaymentSessions): no row per visit.
-- A payment keeps the id of the visit it came from, with no reference to a row. The table stays
-- for replicas of the previous release still serving during a rolling deploy; a later release
-- drops it.
ALTER TABLE payments DROP CONSTRAINT payments_session_id_fkey;

-- The Data Protection key ring that seals them, shared by the gateway's replicas.
CREATE TABLE page_token_keys (
    key_name    text        PRIMARY KEY,
    xml         text        NOT NULL,
    stored_at   timestamptz NOT NULL
);
