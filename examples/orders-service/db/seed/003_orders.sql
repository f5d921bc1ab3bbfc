-- Two orders so lists and reports have something to show; ada's is paid.
INSERT INTO orders (id, customer_id, status, total, created_at) VALUES
  ('00000000-0000-4000-8000-000000000001', (SELECT id FROM customers WHERE handle = 'ada'), 'pending', 3000, '2026-01-05T10:00:00Z'),
  ('00000000-0000-4000-8000-000000000002', (SELECT id FROM customers WHERE handle = 'grace'), 'pending', 960, '2026-01-06T10:00:00Z');
INSERT INTO order_lines (order_id, line_no, sku, quantity, unit_price) VALUES
  ('00000000-0000-4000-8000-000000000001', 1, 'BOOK-1', 2, 1250),
  ('00000000-0000-4000-8000-000000000002', 1, 'PEN-2', 1, 800);
UPDATE orders SET status = 'paid' WHERE id = '00000000-0000-4000-8000-000000000001';
