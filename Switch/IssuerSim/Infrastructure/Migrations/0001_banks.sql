-- Simulated issuing banks sharing issuerdb; each process owns the rows of its bank_id.
CREATE TABLE banks (
    bank_id    text        PRIMARY KEY,
    name       text        NOT NULL,
    bins       text[]      NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
