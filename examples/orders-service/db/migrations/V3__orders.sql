-- Orders and their lines. Totals are in cents, tax included, computed by the service.
CREATE TYPE order_status AS ENUM ('pending', 'paid', 'shipped', 'cancelled');

CREATE TABLE orders (
  id          uuid PRIMARY KEY,
  customer_id bigint NOT NULL REFERENCES customers (id),
  status      order_status NOT NULL DEFAULT 'pending',
  total       integer NOT NULL CHECK (total >= 0),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_customer ON orders (customer_id);
CREATE INDEX orders_pending_by_age ON orders (created_at) WHERE status = 'pending';

CREATE TABLE order_lines (
  order_id   uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
  line_no    integer NOT NULL,
  sku        text NOT NULL REFERENCES products (sku),
  quantity   integer NOT NULL CHECK (quantity > 0),
  unit_price integer NOT NULL CHECK (unit_price >= 0),
  PRIMARY KEY (order_id, line_no)
);

CREATE FUNCTION touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END
$$;
CREATE TRIGGER orders_touch BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
