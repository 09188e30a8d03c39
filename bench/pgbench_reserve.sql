-- B2 baseline: what one reservation of :qty unit(s) costs PostgreSQL alone.
-- The same statements as reservation_create: the order row, the conditional
-- UPDATE of the level (never past on_hand), the reservation line, in one transaction.
-- Variables (pgbench -D): lo, hi (SKU id range; lo = hi for one hot SKU), wh (warehouse id).
\set sku random(:lo, :hi)
\set qty 1
BEGIN;
INSERT INTO stock_reservation (created_at, updated_at, reference, status, expires_at, created_by_id)
    VALUES (now(), now(), 'PGBENCH-' || :client_id, 'active', now() + interval '1 day', NULL)
    RETURNING id AS res_id \gset
UPDATE stock_stocklevel
    SET reserved = reserved + :qty, version = version + 1, updated_at = now()
    WHERE sku_id = :sku AND warehouse_id = :wh AND on_hand - reserved >= :qty;
INSERT INTO stock_reservationline (reservation_id, sku_id, warehouse_id, quantity)
    VALUES (:res_id, :sku, :wh, :qty);
END;
