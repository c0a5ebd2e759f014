-- A credit card's bank may answer a purchase 1A (additional customer authentication required):
-- it has sent the cardholder a one-time code, and the order waits, payable again, for the purchase
-- to be sent again with that code. The order points at the challenged payment (its card number,
-- encrypted, and the STAN and transmission time the bank's challenge is keyed on). Neither the
-- code nor the CVV2 is stored anywhere: a payment's stored request never carries field 48.
ALTER TABLE orders ADD COLUMN otp_payment_id bigint;
