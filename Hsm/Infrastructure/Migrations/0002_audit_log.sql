-- Key-management commands and refused commands: who, what, which key, how it ended.
CREATE TABLE audit_log (
    audit_id  bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at        timestamptz NOT NULL,
    caller    text        NOT NULL,
    command   text        NOT NULL,
    key_id    text,
    outcome   text        NOT NULL,
    trace_id  text
);
CREATE INDEX audit_log_at ON audit_log (at);
