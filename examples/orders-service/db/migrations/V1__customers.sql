-- Customers place orders; `handle` is what the API names them by.
CREATE TYPE customer_tier AS ENUM ('standard', 'gold');

CREATE TABLE customers (
  id         bigserial PRIMARY KEY,
  handle     text NOT NULL UNIQUE CHECK (handle ~ '^[a-z0-9][a-z0-9_-]{0,39}$'),
  name       text NOT NULL,
  tier       customer_tier NOT NULL DEFAULT 'standard',
  created_at timestamptz NOT NULL DEFAULT now()
);
