-- Zone keys change online (0800/101): when each link's next scheduled change is due (one switch
-- replica claims it), and every change made or refused, with both check values: the audit trail.
CREATE TABLE zone_key_schedule (
    issuer      text        PRIMARY KEY,
    next_due_at timestamptz NOT NULL
);

CREATE TABLE zone_key_changes (
    change_id            bigserial   PRIMARY KEY,
    issuer               text        NOT NULL,
    key_kind             text        NOT NULL,
    initiated_by         text        NOT NULL,
    outcome              text        NOT NULL,
    previous_check_value text        NOT NULL,
    offered_check_value  text        NOT NULL,
    answered_check_value text        NOT NULL,
    response_code        text        NOT NULL,
    grace_seconds        integer     NOT NULL,
    detail               text        NOT NULL,
    at                   timestamptz NOT NULL
);
CREATE INDEX zone_key_changes_by_issuer ON zone_key_changes (issuer, at);
