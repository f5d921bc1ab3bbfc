INSERT INTO products (sku, name, unit_price) VALUES
  ('BOOK-1', 'Notes on the Analytical Engine', 1250),
  ('PEN-2', 'Fountain pen', 800),
  ('MUG-3', 'Mug', 1100),
  ('SMOKE-1', 'Smoke test item', 100);
INSERT INTO products (sku, name, unit_price, active) VALUES ('OLD-9', 'Discontinued', 500, false);
