-- Every message the switch exchanges with a bank, one row per request and answer pair.
-- No PAN, PIN block or track data is ever written here.
CREATE TABLE message_journal (
    journal_id     bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    issuer         text        NOT NULL,
    mti            char(4)     NOT NULL,
    stan           char(6)     NOT NULL,
    network_code   char(3),
    response_code  char(2),
    outcome        text        NOT NULL CHECK (outcome IN ('answered', 'timeout', 'link_down', 'error')),
    latency_ms     double precision NOT NULL,
    trace_id       text,
    recorded_at    timestamptz NOT NULL
);
CREATE INDEX message_journal_recorded_at ON message_journal (recorded_at);
