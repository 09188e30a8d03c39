"""The stock rules held by the database, each once: `available`, the crossings, the level and
reservation event payloads, and the placing of a reservation (the warehouse order of each
strategy, splits, backorders, refusals). Python calls them; see docs/architecture/reservations.md.
"""

from django.db import migrations

AVAILABLE = """
-- THE definition of `available`: what can be reserved (safety stock never is), in bigint.
-- Plain SQL and IMMUTABLE, so PostgreSQL inlines it into every query that calls it.
CREATE FUNCTION stock_available(on_hand bigint, reserved bigint, damaged bigint, quality_control bigint,
                                safety_stock bigint) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT GREATEST(0, on_hand - reserved - damaged - quality_control - safety_stock)
$$;

-- The types a change of `available` from p_before to p_after emits for a level: always
-- stock.level.changed, then the crossings of its threshold and of zero.
CREATE FUNCTION stock_level_event_types(p_before bigint, p_after bigint, p_threshold bigint)
RETURNS TABLE(ord integer, type text)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT k.ord, k.type FROM (VALUES
    (0, 'stock.level.changed', true),
    (1, 'stock.low', p_before > p_threshold AND p_threshold >= p_after),
    (2, 'stock.out', p_before > 0 AND 0 >= p_after),
    (3, 'stock.back_in_stock', p_before <= 0 AND 0 < p_after)) k(ord, type, applies)
  WHERE k.applies
$$;

-- The payload of stock.level.changed (and of its crossings): the level as the API shows it.
-- One expression (no FROM), so that PostgreSQL inlines it where it is called.
CREATE FUNCTION stock_level_event_data(l stock_stocklevel, p_sku_code text, p_warehouse text, p_cause jsonb,
                                       p_reason text) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'id', l.id, 'sku_id', l.sku_id, 'sku_code', p_sku_code, 'warehouse', p_warehouse,
    'on_hand', l.on_hand, 'reserved', l.reserved, 'damaged', l.damaged, 'quality_control', l.quality_control,
    'safety_stock', l.safety_stock, 'incoming', l.incoming, 'backordered', l.backordered,
    'sellable', l.on_hand::bigint - l.reserved - l.damaged - l.quality_control,
    'available', stock_available(l.on_hand, l.reserved, l.damaged, l.quality_control, l.safety_stock),
    'low_stock_threshold', l.low_stock_threshold,
    'is_low', stock_available(l.on_hand, l.reserved, l.damaged, l.quality_control, l.safety_stock)
              <= l.low_stock_threshold,
    'version', l.version, 'cause', p_cause, 'reason', p_reason)
$$;

-- The events of a level `l` (holding its new figures) whose available was p_before.
CREATE FUNCTION stock_level_events(l stock_stocklevel, p_before bigint, p_sku_code text, p_warehouse text,
                                   p_cause jsonb, p_reason text)
RETURNS TABLE(ord integer, type text, aggregate text, data jsonb)
LANGUAGE sql STABLE AS $$
  SELECT k.ord, k.type, 'stock_level:' || l.id, stock_level_event_data(l, p_sku_code, p_warehouse, p_cause, p_reason)
  FROM stock_level_event_types(
    p_before, stock_available(l.on_hand, l.reserved, l.damaged, l.quality_control, l.safety_stock),
    l.low_stock_threshold) k
  ORDER BY k.ord
$$;

-- The payload of reservation.<action> (the reservation as GET /stock/reservations/{id}/ shows
-- it) and the SKU code the event is filed under (its one SKU's, or '' for several). The
-- timestamps come as the API's JSON writes them (the caller formats them). One SELECT, so that
-- PostgreSQL inlines it into the query that calls it (and keeps that query's plan).
CREATE FUNCTION stock_reservation_event(p_reservation bigint, p_status text, p_expires_at text,
                                        p_created_at text, p_updated_at text)
RETURNS TABLE(data jsonb, sku_code text)
LANGUAGE sql STABLE AS $$
    -- Correlated subqueries by index, not joins: a join's generic plan may scan whole tables.
    SELECT jsonb_build_object(
      'id', r.id, 'reference', r.reference, 'status', p_status, 'expires_at', p_expires_at,
      'backordered', COALESCE(x.backordered, false), 'created_at', p_created_at, 'updated_at', p_updated_at,
      'lines', COALESCE(x.lines, '[]'::jsonb)),
      CASE WHEN x.skus = 1 THEN (SELECT s.sku_code FROM catalog_sku s WHERE s.id = x.first_sku)::text ELSE '' END
    FROM stock_reservation r
    CROSS JOIN LATERAL (
      SELECT bool_or(ln.backordered > 0) AS backordered, count(DISTINCT ln.sku_id) AS skus, min(ln.sku_id) AS first_sku,
             jsonb_agg(jsonb_build_object(
               'id', ln.id, 'sku_id', ln.sku_id,
               'sku_code', (SELECT s.sku_code FROM catalog_sku s WHERE s.id = ln.sku_id),
               'warehouse', (SELECT w.code FROM stock_warehouse w WHERE w.id = ln.warehouse_id),
               'quantity', ln.quantity, 'allocated', ln.quantity - ln.backordered, 'backordered', ln.backordered)
               ORDER BY ln.id) AS lines
      FROM stock_reservationline ln WHERE ln.reservation_id = r.id) x
    WHERE r.id = p_reservation
$$;
"""

WAREHOUSE_ORDER = """
-- The warehouses a line that names none may take from, for SKU p_sku, in the order of the
-- strategy: `priority` (lower priority first, the default first among equals, then id) or
-- `most_stock` (most available first, then that order). `available` net of p_taken units
-- already planned per level (p_levels/p_taken: parallel arrays), `uncovered` net of p_rest.
CREATE FUNCTION stock_warehouse_order(p_sku bigint, p_strategy text, p_levels bigint[], p_taken bigint[])
RETURNS TABLE(level_id bigint, warehouse_id bigint, warehouse text, available bigint)
LANGUAGE sql STABLE AS $$
  SELECT x.id, x.warehouse_id, x.code, x.available FROM (
    SELECT l.id, w.id AS warehouse_id, w.code, w.priority, w.is_default,
           stock_available(l.on_hand, l.reserved, l.damaged, l.quality_control, l.safety_stock)
             - COALESCE(p_taken[array_position(p_levels, l.id)], 0) AS available
    FROM stock_stocklevel l JOIN stock_warehouse w ON w.id = l.warehouse_id
    WHERE l.sku_id = p_sku AND NOT w.is_deleted AND (w.is_active OR w.is_default)) x
  ORDER BY CASE WHEN p_strategy = 'most_stock' THEN -x.available ELSE 0 END, x.priority, x.is_default DESC,
           x.warehouse_id
$$;
"""

PLACE = r"""
-- A reservation, placed: the one implementation of POST /stock/reservations/ and of every
-- face that reserves. See docs/architecture/reservations.md.
--
-- p_lines: [{"idx", "sku_code" and "sku_key" | "sku_id", "warehouse" (code, optional), "quantity"}].
-- Returns one row per refusal, and nothing else, when the reservation cannot be placed
-- (o_kind 'invalid' with o_detail [[field, message], ...], 'ttl_too_long', 'no_default',
-- 'short' with o_detail {"available": n}); nothing is written then. Otherwise one row per
-- reservation line ('placed'), in request order.
--
-- The plan is made from the levels as read; each level is then moved once, in the one lock
-- order (sku_id, warehouse_id), by the conditional UPDATE (available >= what it takes). A
-- plan gone stale meanwhile raises 40001 (everything rolls back) and the caller places
-- again with p_lock_first, which locks every level of the SKUs in that order before reading.
CREATE FUNCTION stock_reservation_place(
  p_lines json, p_strategy text, p_allow_split boolean, p_lock_first boolean, p_reference text,
  p_user_id integer, p_now timestamptz, p_ttl_seconds integer, p_allocated_ttl_seconds integer,
  p_now_text text, p_expires_at_text text, p_allocated_expires_at_text text)
RETURNS TABLE(o_kind text, o_idx integer, o_reservation_id bigint, o_line_id bigint, o_sku_id bigint,
              o_sku_code text, o_warehouse_id bigint, o_warehouse text, o_quantity bigint, o_backordered bigint,
              o_detail jsonb, o_expires_at timestamptz)
LANGUAGE plpgsql AS $$
DECLARE
  r record;
  v_err jsonb;
  v_invalid boolean := false;
  v_n integer := 0;
  -- The lines, resolved (1-based, request order).
  v_idx integer[] := '{}'; v_sku bigint[] := '{}'; v_code text[] := '{}'; v_backorders boolean[] := '{}';
  v_wh bigint[] := '{}'; v_whcode text[] := '{}'; v_qty bigint[] := '{}';
  v_default bigint; v_default_code text;
  -- The plan: chunks (a line's units from one level), and the totals planned per level.
  c_idx integer[] := '{}'; c_level bigint[] := '{}'; c_sku bigint[] := '{}'; c_skucode text[] := '{}';
  c_wh bigint[] := '{}'; c_whcode text[] := '{}'; c_take bigint[] := '{}'; c_rest bigint[] := '{}';
  p_levels bigint[] := '{}'; p_taken bigint[] := '{}'; p_rest bigint[] := '{}';
  p_sku bigint[] := '{}'; p_wh bigint[] := '{}'; p_skucode text[] := '{}'; p_whcode text[] := '{}';
  -- One line's picks.
  k_level bigint[]; k_wh bigint[]; k_whcode text[]; k_take bigint[]; k_rest bigint[];
  o_ids bigint[]; o_whs bigint[]; o_codes text[]; o_avail bigint[]; v_sorted bigint[];
  v_short boolean := false;
  v_best bigint; v_level bigint; v_avail bigint; v_uncovered bigint; v_q bigint; v_take bigint;
  v_remaining bigint; v_size integer; v_covered bigint; v_start integer; v_pos integer; v_rest_sum bigint;
  v_bwh bigint; v_bwhcode text;
  v_reservation bigint; v_expires timestamptz; v_expires_text text;
  v_rest_total bigint := 0; v_order integer[]; v_row stock_stocklevel%ROWTYPE;
  v_created jsonb; v_created_sku text;
  i integer; j integer; s integer;
BEGIN
  -- 1. Codes (or ids) to rows. A refusal names every bad line, as the API's 400 does.
  FOR r IN
    SELECT q.idx, q.sku_code AS given_code, q.sku_id AS given_id, q.warehouse AS given_wh, q.quantity,
           bc.id AS c_id, bc.sku_code AS c_code, bc.is_deleted AS c_deleted, bc.backorder_policy AS c_policy,
           bi.id AS i_id, bi.sku_code AS i_code, bi.is_deleted AS i_deleted, bi.backorder_policy AS i_policy,
           w.id AS w_id, w.code AS w_code, w.is_deleted AS w_deleted, d.id AS d_id, d.code AS d_code
    FROM json_to_recordset(p_lines) AS q(idx integer, sku_code text, sku_key text, sku_id bigint, warehouse text,
                                         quantity bigint)
    -- sku_key: the code as catalog.rules.sku_code_key makes it (the form in which codes are equal;
    -- '' for a text no SKU code can be), so that lower() never folds a look-alike into a real code.
    LEFT JOIN catalog_sku bc ON lower(bc.sku_code) = q.sku_key
    LEFT JOIN catalog_sku bi ON bi.id = q.sku_id
    LEFT JOIN stock_warehouse w ON w.code = upper(q.warehouse)
    LEFT JOIN stock_warehouse d ON d.is_default AND NOT d.is_deleted
    ORDER BY q.idx
  LOOP
    v_default := r.d_id;
    v_default_code := r.d_code;
    v_err := '[]'::jsonb;
    IF r.given_code IS NULL AND r.given_id IS NULL THEN
      v_err := v_err || '[["sku_code", "Give sku_code or sku_id."]]'::jsonb;
    END IF;
    IF r.given_code IS NOT NULL AND r.c_id IS NULL THEN
      v_err := v_err || '[["sku_code", "No SKU with this code."]]'::jsonb;
    ELSIF r.given_code IS NOT NULL AND r.c_deleted THEN
      v_err := v_err || '[["sku_code", "This SKU is deleted."]]'::jsonb;
    END IF;
    IF r.given_id IS NOT NULL AND r.i_id IS NULL THEN
      v_err := v_err || '[["sku_id", "No SKU with this id."]]'::jsonb;
    ELSIF r.given_id IS NOT NULL AND r.i_deleted THEN
      v_err := v_err || '[["sku_id", "This SKU is deleted."]]'::jsonb;
    END IF;
    IF v_err = '[]'::jsonb AND r.c_id IS NOT NULL AND r.i_id IS NOT NULL AND r.c_id <> r.i_id THEN
      v_err := '[["sku_id", "sku_code and sku_id name different SKUs."]]'::jsonb;
    END IF;
    IF r.given_wh IS NOT NULL AND r.w_id IS NULL THEN
      v_err := v_err || '[["warehouse", "No warehouse with this code."]]'::jsonb;
    ELSIF r.given_wh IS NOT NULL AND r.w_deleted THEN
      v_err := v_err || '[["warehouse", "This warehouse is deleted."]]'::jsonb;
    END IF;
    IF v_err <> '[]'::jsonb THEN
      v_invalid := true;
      RETURN QUERY SELECT 'invalid'::text, r.idx, NULL::bigint, NULL::bigint, NULL::bigint, NULL::text, NULL::bigint,
        NULL::text, r.quantity, NULL::bigint, v_err, NULL::timestamptz;
      CONTINUE;
    END IF;
    v_n := v_n + 1;
    v_idx := v_idx || r.idx;
    v_sku := v_sku || COALESCE(r.c_id, r.i_id);
    v_code := v_code || COALESCE(r.c_code, r.i_code);
    v_backorders := v_backorders || (COALESCE(r.c_policy, r.i_policy) = 'allow_incoming');
    v_wh := v_wh || r.w_id;
    v_whcode := v_whcode || r.w_code;
    v_qty := v_qty || r.quantity;
  END LOOP;
  IF v_invalid THEN
    RETURN;
  END IF;
  -- A TTL past the ordinary maximum is for reservations that may wait on incoming stock.
  IF p_ttl_seconds > p_allocated_ttl_seconds AND NOT (true = ANY(v_backorders)) THEN
    RETURN QUERY SELECT 'ttl_too_long'::text, NULL::integer, NULL::bigint, NULL::bigint, NULL::bigint, NULL::text,
      NULL::bigint, NULL::text, NULL::bigint, NULL::bigint, NULL::jsonb, NULL::timestamptz;
    RETURN;
  END IF;
  IF v_default IS NULL AND array_position(v_wh, NULL) IS NOT NULL THEN
    RETURN QUERY SELECT 'no_default'::text, NULL::integer, NULL::bigint, NULL::bigint, NULL::bigint, NULL::text,
      NULL::bigint, NULL::text, NULL::bigint, NULL::bigint, NULL::jsonb, NULL::timestamptz;
    RETURN;
  END IF;
  IF p_lock_first THEN  -- a plan went stale: read under the locks this time, in the one order
    PERFORM 1 FROM stock_stocklevel l WHERE l.sku_id = ANY(v_sku) ORDER BY l.sku_id, l.warehouse_id FOR UPDATE;
  END IF;

  -- 2. The plan, line by line: earlier lines' units count against later lines' stock.
  FOR i IN 1..v_n LOOP
    v_q := v_qty[i];
    k_level := '{}'; k_wh := '{}'; k_whcode := '{}'; k_take := '{}'; k_rest := '{}';
    v_best := 0;
    <<place>>
    BEGIN
      IF v_wh[i] IS NOT NULL THEN  -- the warehouse named
        SELECT l.id, stock_available(l.on_hand, l.reserved, l.damaged, l.quality_control, l.safety_stock)
                 - COALESCE(p_taken[array_position(p_levels, l.id)], 0)
          INTO v_level, v_avail FROM stock_stocklevel l WHERE l.sku_id = v_sku[i] AND l.warehouse_id = v_wh[i];
        IF v_level IS NOT NULL AND v_avail >= v_q THEN
          k_level := ARRAY[v_level]; k_wh := ARRAY[v_wh[i]]; k_whcode := ARRAY[v_whcode[i]];
          k_take := ARRAY[v_q]; k_rest := ARRAY[0::bigint];
          EXIT place;
        END IF;
        v_best := GREATEST(COALESCE(v_avail, 0), 0);
      ELSE  -- the first warehouse in the strategy's order that has enough
        SELECT COALESCE(array_agg(o.level_id), '{}'), COALESCE(array_agg(o.warehouse_id), '{}'),
               COALESCE(array_agg(o.warehouse), '{}'), COALESCE(array_agg(GREATEST(o.available, 0)), '{}')
          INTO o_ids, o_whs, o_codes, o_avail
          FROM stock_warehouse_order(v_sku[i], p_strategy, p_levels, p_taken) o;
        FOR j IN 1..COALESCE(array_length(o_ids, 1), 0) LOOP
          IF o_avail[j] >= v_q THEN
            k_level := ARRAY[o_ids[j]]; k_wh := ARRAY[o_whs[j]]; k_whcode := ARRAY[o_codes[j]];
            k_take := ARRAY[v_q]; k_rest := ARRAY[0::bigint];
            EXIT place;
          END IF;
          v_best := GREATEST(v_best, o_avail[j]);
        END LOOP;
        -- allow_split: the fewest warehouses that together cover the line, the earliest such
        -- set in the strategy's order, each giving what it has in that order (the last, the rest).
        IF p_allow_split AND (SELECT COALESCE(sum(a), 0) FROM unnest(o_avail) a) >= v_q THEN
          SELECT array_agg(a ORDER BY a DESC) INTO v_sorted FROM unnest(o_avail) a;
          v_size := 0; v_covered := 0;
          WHILE v_covered < v_q LOOP
            v_size := v_size + 1;
            v_covered := v_covered + v_sorted[v_size];
          END LOOP;
          v_start := 1; v_remaining := v_q;
          FOR s IN REVERSE v_size..1 LOOP
            FOR j IN v_start..(array_length(o_ids, 1) - s + 1) LOOP
              SELECT COALESCE(sum(t.a), 0) INTO v_rest_sum FROM (
                SELECT a FROM unnest(o_avail[j + 1:]) a ORDER BY a DESC LIMIT s - 1) t;
              IF o_avail[j] > 0 AND o_avail[j] + v_rest_sum >= v_remaining THEN
                v_take := LEAST(o_avail[j], v_remaining);
                k_level := k_level || o_ids[j]; k_wh := k_wh || o_whs[j]; k_whcode := k_whcode || o_codes[j];
                k_take := k_take || v_take; k_rest := k_rest || 0::bigint;
                v_remaining := v_remaining - v_take;
                v_start := j + 1;
                EXIT;
              END IF;
            END LOOP;
          END LOOP;
          EXIT place;
        END IF;
      END IF;
      -- A SKU that allows backorders holds what its warehouse (named, else the default) has
      -- and waits for the rest on that level's incoming stock not yet backordered.
      IF v_backorders[i] THEN
        v_bwh := COALESCE(v_wh[i], v_default);
        v_bwhcode := COALESCE(v_whcode[i], v_default_code);
        v_level := NULL;
        SELECT l.id, stock_available(l.on_hand, l.reserved, l.damaged, l.quality_control, l.safety_stock)
                 - COALESCE(p_taken[array_position(p_levels, l.id)], 0),
               l.incoming::bigint - l.backordered - COALESCE(p_rest[array_position(p_levels, l.id)], 0)
          INTO v_level, v_avail, v_uncovered FROM stock_stocklevel l WHERE l.sku_id = v_sku[i] AND l.warehouse_id = v_bwh;
        IF v_level IS NOT NULL THEN
          v_take := LEAST(v_q, GREATEST(v_avail, 0));
          IF v_q - v_take <= v_uncovered THEN
            k_level := ARRAY[v_level]; k_wh := ARRAY[v_bwh]; k_whcode := ARRAY[v_bwhcode];
            k_take := ARRAY[v_take]; k_rest := ARRAY[v_q - v_take];
            EXIT place;
          END IF;
        END IF;
      END IF;
      v_short := true;
      RETURN QUERY SELECT 'short'::text, v_idx[i], NULL::bigint, NULL::bigint, v_sku[i], v_code[i], NULL::bigint,
        NULL::text, v_q, NULL::bigint, jsonb_build_object('available', v_best), NULL::timestamptz;
    END;
    FOR j IN 1..COALESCE(array_length(k_level, 1), 0) LOOP
      c_idx := c_idx || v_idx[i]; c_level := c_level || k_level[j]; c_sku := c_sku || v_sku[i];
      c_skucode := c_skucode || v_code[i]; c_wh := c_wh || k_wh[j]; c_whcode := c_whcode || k_whcode[j];
      c_take := c_take || k_take[j]; c_rest := c_rest || k_rest[j];
      v_rest_total := v_rest_total + k_rest[j];
      v_pos := array_position(p_levels, k_level[j]);
      IF v_pos IS NULL THEN
        p_levels := p_levels || k_level[j]; p_taken := p_taken || k_take[j]; p_rest := p_rest || k_rest[j];
        p_sku := p_sku || v_sku[i]; p_wh := p_wh || k_wh[j]; p_skucode := p_skucode || v_code[i];
        p_whcode := p_whcode || k_whcode[j];
      ELSE
        p_taken[v_pos] := p_taken[v_pos] + k_take[j]; p_rest[v_pos] := p_rest[v_pos] + k_rest[j];
      END IF;
    END LOOP;
  END LOOP;
  IF v_short THEN
    RETURN;
  END IF;

  -- 3. The reservation row and its lines, then each level once, in the one lock order, with
  -- its events, then reservation.created. A TTL past the ordinary maximum is kept only while
  -- some line waits on incoming stock.
  IF v_rest_total > 0 OR p_ttl_seconds <= p_allocated_ttl_seconds THEN
    v_expires := p_now + make_interval(secs => p_ttl_seconds);
    v_expires_text := p_expires_at_text;
  ELSE
    v_expires := p_now + make_interval(secs => p_allocated_ttl_seconds);
    v_expires_text := p_allocated_expires_at_text;
  END IF;
  INSERT INTO stock_reservation (created_at, updated_at, reference, status, expires_at, created_by_id)
  VALUES (p_now, p_now, p_reference, 'active', v_expires, p_user_id) RETURNING id INTO v_reservation;
  -- The lines, and the payload of reservation.created, before any level is locked: a hot
  -- level's row lock is then held only for its UPDATE, its events and the commit.
  FOR j IN 1..array_length(c_idx, 1) LOOP
    INSERT INTO stock_reservationline (reservation_id, sku_id, warehouse_id, quantity, backordered)
    VALUES (v_reservation, c_sku[j], c_wh[j], c_take[j] + c_rest[j], c_rest[j]) RETURNING id INTO o_line_id;
    o_kind := 'placed'; o_idx := c_idx[j]; o_reservation_id := v_reservation; o_sku_id := c_sku[j];
    o_sku_code := c_skucode[j]; o_warehouse_id := c_wh[j]; o_warehouse := c_whcode[j];
    o_quantity := c_take[j] + c_rest[j]; o_backordered := c_rest[j]; o_detail := NULL; o_expires_at := v_expires;
    RETURN NEXT;
  END LOOP;
  SELECT e.data, e.sku_code INTO v_created, v_created_sku
  FROM stock_reservation_event(v_reservation, 'active', v_expires_text, p_now_text, p_now_text) e;
  -- Each level once, in the one lock order (sku_id, warehouse_id): its conditional UPDATE,
  -- then its events. (Loops of one-row statements, not set-based statements over the arrays:
  -- PostgreSQL plans a statement over an array parameter anew at every call, since it counts
  -- the array's elements only for a custom plan; these keep their generic plans.)
  IF array_length(p_levels, 1) > 1 THEN
    SELECT array_agg(n ORDER BY p_sku[n], p_wh[n]) INTO v_order FROM generate_subscripts(p_levels, 1) AS n;
  ELSE
    v_order := ARRAY[1];
  END IF;
  FOREACH j IN ARRAY v_order LOOP
    UPDATE stock_stocklevel l
       SET reserved = l.reserved + p_taken[j], backordered = l.backordered + p_rest[j], version = l.version + 1,
           updated_at = p_now
     WHERE l.id = p_levels[j]
       AND stock_available(l.on_hand, l.reserved, l.damaged, l.quality_control, l.safety_stock) >= p_taken[j]
       AND l.incoming::bigint - l.backordered >= p_rest[j]
    RETURNING l.* INTO v_row;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'stock_reservation_place: the plan went stale' USING ERRCODE = '40001';
    END IF;
    INSERT INTO events_event (type, aggregate, data, sku_code, reference, created_at)
    SELECT e.type, e.aggregate, e.data, left(p_skucode[j], 50), left(p_reference, 255), p_now
    FROM stock_level_events(
      v_row, stock_available(v_row.on_hand, v_row.reserved - p_taken[j], v_row.damaged, v_row.quality_control,
                             v_row.safety_stock),
      p_skucode[j], p_whcode[j], jsonb_build_object('reservation_id', v_reservation), NULL) e
    ORDER BY e.ord;
  END LOOP;
  INSERT INTO events_event (type, aggregate, data, sku_code, reference, created_at)
  VALUES ('reservation.created', 'reservation:' || v_reservation, v_created, left(v_created_sku, 50),
          left(p_reference, 255), p_now);
END;
$$;
"""

DROP = """
DROP FUNCTION IF EXISTS stock_reservation_place(json, text, boolean, boolean, text, integer, timestamptz, integer,
                                                integer, text, text, text);
DROP FUNCTION IF EXISTS stock_warehouse_order(bigint, text, bigint[], bigint[]);
DROP FUNCTION IF EXISTS stock_reservation_event(bigint, text, text, text, text);
DROP FUNCTION IF EXISTS stock_level_events(stock_stocklevel, bigint, text, text, jsonb, text);
DROP FUNCTION IF EXISTS stock_level_event_data(stock_stocklevel, text, text, jsonb, text);
DROP FUNCTION IF EXISTS stock_level_event_types(bigint, bigint, bigint);
DROP FUNCTION IF EXISTS stock_available(bigint, bigint, bigint, bigint, bigint);
"""


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0005_active_sku_count"),
        ("events", "0002_delivery_queued_at_removed"),
        ("stock", "0005_stock_depth"),
    ]

    operations = [
        migrations.RunSQL(AVAILABLE + WAREHOUSE_ORDER + PLACE, DROP),
    ]
