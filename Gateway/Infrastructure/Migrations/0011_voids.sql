-- Voids (撤销): before the cut-off that ends its settlement date, a merchant may void a paid order
-- with nothing refunded. The whole amount goes back to the card as a reversal at the issuer (a
-- refunds row of kind 'void'), and the order ends 'voided'.
ALTER TABLE orders DROP CONSTRAINT orders_status_check;
ALTER TABLE orders ADD CONSTRAINT orders_status_check CHECK (status IN ('created', 'pending', 'paid', 'failed', 'closed', 'voided'));
ALTER TABLE refunds DROP CONSTRAINT refunds_kind_check;
ALTER TABLE refunds ADD CONSTRAINT refunds_kind_check CHECK (kind IN ('refund', 'reversal', 'void'));
