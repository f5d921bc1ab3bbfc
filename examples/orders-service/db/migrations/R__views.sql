-- What each customer has spent on orders that were paid (or shipped).
CREATE OR REPLACE VIEW customer_spend AS
  SELECT c.handle, count(o.id)::int AS orders, coalesce(sum(o.total), 0)::int AS total
  FROM customers c
  LEFT JOIN orders o ON o.customer_id = c.id AND o.status IN ('paid', 'shipped')
  GROUP BY c.handle;
