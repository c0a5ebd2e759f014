-- The banks a consumer may choose (NetPay's GateId), managed by operators: a code is never
-- deleted, only disabled, so an order that named it still reads. 8607 is UnionPay online and
-- 0001 NetPay's test gateway; the others are the banks whose cards the platform's issuers hold.
-- The switch routes by card number whatever is chosen.
CREATE TABLE gate_codes (
    gate_id     text        PRIMARY KEY CHECK (gate_id ~ '^[0-9]{4}$'),
    bank_name   text        NOT NULL CHECK (length(bank_name) BETWEEN 1 AND 100),
    enabled     boolean     NOT NULL DEFAULT true,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
INSERT INTO gate_codes (gate_id, bank_name) VALUES
    ('0102', 'Industrial and Commercial Bank of China'),
    ('0105', 'China Construction Bank'),
    ('0104', 'Bank of China'),
    ('8607', 'UnionPay online (银联在线)'),
    ('0001', 'NetPay test gateway');
