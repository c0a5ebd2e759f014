-- A NetPay refund carries no refund number: the gateway names it by its date, amount and Priv1.
-- That name was unique per merchant, so a second order refunded the same amount on the same day
-- with the same (or no) Priv1 was refused as another order's refund. The name now starts with its
-- order (np-{OrderId}-{TransDate}-{RefundAmount}-{Priv1 hash}), which is longer than a merchant's
-- own refund ids may be. The refunds made before keep their identity: each one's name gains its
-- order, so the same refund sent again is still the same refund.
ALTER TABLE refunds DROP CONSTRAINT refunds_refund_id_check;
ALTER TABLE refunds ADD CONSTRAINT refunds_refund_id_check
    CHECK (refund_id ~ '^[0-9A-Za-z_-]{1,32}$' OR refund_id ~ '^np-[0-9]{16}-[0-9]{8}-[0-9]{12}-[0-9a-f]{6}$');
UPDATE refunds r SET refund_id = 'np-' || r.order_id || substr(r.refund_id, 3)
FROM orders o
WHERE o.merchant_id = r.merchant_id AND o.order_id = r.order_id AND o.protocol = 'netpay' AND r.kind = 'refund'
  AND r.refund_id ~ '^np-[0-9]{8}-[0-9]{12}-[0-9a-f]{6}$';
