-- The catalogue: an order line must name a known SKU.
CREATE TABLE products (
  sku        text PRIMARY KEY CHECK (sku ~ '^[A-Z0-9][A-Z0-9-]{1,31}$'),
  name       text NOT NULL,
  unit_price integer NOT NULL CHECK (unit_price >= 0),
  active     boolean NOT NULL DEFAULT true
);
