-- The page's path, refunds, the consoles and the notification history find an order's outbox rows
-- by merchant and order. Without this index each of them read every undelivered row: under load
-- the page's look-up was the most expensive statement of a purchase, and it grew with the table.
CREATE INDEX outbox_of_order ON outbox (merchant_id, order_id, order_version);
