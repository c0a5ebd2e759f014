-- Where a merchant's NetPay orders may send the consumer and the notification: BgRetUrl and
-- PageRetUrl are not covered by the merchant's ChkValue, so they must lie under an address the
-- merchant registered at onboarding. None registered: neither field is accepted.
ALTER TABLE merchants ADD COLUMN return_url_prefixes text[] NOT NULL DEFAULT '{}';

-- Wrong PINs are counted on the order, not on the page: a new payment page (or a new attempt at a
-- failed order number) does not give the consumer more tries. What the sessions counted is kept.
ALTER TABLE orders ADD COLUMN wrong_pins integer NOT NULL DEFAULT 0 CHECK (wrong_pins >= 0);
UPDATE orders o SET wrong_pins = s.wrong_pins
FROM (SELECT merchant_id, order_id, sum(wrong_pins)::integer AS wrong_pins FROM payment_sessions GROUP BY merchant_id, order_id HAVING sum(wrong_pins) > 0) s
WHERE o.merchant_id = s.merchant_id AND o.order_id = s.order_id;
ALTER TABLE payment_sessions DROP COLUMN wrong_pins;
