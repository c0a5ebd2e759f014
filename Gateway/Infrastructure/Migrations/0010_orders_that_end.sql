-- Orders that end: every order has a pay-by time (the merchant's, else the gateway's default), after
-- which a created order is closed, and a merchant may close an order that is not paid. A closed
-- order can never be paid. The orders made before get the default of 30 minutes after their last
-- change; those of them still created and long past it are closed by the gateway's first rounds.
ALTER TABLE orders ADD COLUMN pay_by timestamptz;
UPDATE orders SET pay_by = updated_at + interval '30 minutes';
ALTER TABLE orders ALTER COLUMN pay_by SET NOT NULL;
ALTER TABLE orders DROP CONSTRAINT orders_status_check;
ALTER TABLE orders ADD CONSTRAINT orders_status_check CHECK (status IN ('created', 'pending', 'paid', 'failed', 'closed'));
-- What the closing rounds look for: created orders by pay-by time.
CREATE INDEX orders_to_close ON orders (pay_by) WHERE status = 'created';
