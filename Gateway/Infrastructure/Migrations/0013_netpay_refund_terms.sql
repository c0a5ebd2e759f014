-- A NetPay refund's own terms, kept to answer it as NetPay does: its TransType (0002 first full,
-- 0012 second full, 0102 first partial, 0112 second partial), its Priv1 (the merchant's refund
-- serial) and its ReturnURL, where its result is posted once known. Refunds made before have
-- none: they were all 0002, and their ReturnURL was never used.
ALTER TABLE refunds ADD COLUMN netpay_trans_type text CHECK (netpay_trans_type IN ('0002', '0012', '0102', '0112'));
ALTER TABLE refunds ADD COLUMN netpay_priv1 text;
ALTER TABLE refunds ADD COLUMN return_url text;

-- A NetPay refund's result no longer goes to its order's BgRetUrl, where a payment handler that
-- checks only the signature and status=1001 booked it as money received: one still waiting to be
-- sent there is not sent.
UPDATE outbox x SET superseded_at = now()
FROM orders o
WHERE o.merchant_id = x.merchant_id AND o.order_id = x.order_id AND o.protocol = 'netpay'
  AND x.topic = 'notification' AND x.payload->>'kind' = 'refund'
  AND x.delivered_at IS NULL AND x.given_up_at IS NULL AND x.superseded_at IS NULL;
