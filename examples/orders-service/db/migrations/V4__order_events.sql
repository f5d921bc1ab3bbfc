-- An audit trail of status changes, written by the database itself.
CREATE TABLE order_events (
  id          bigserial PRIMARY KEY,
  order_id    uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
  from_status order_status NOT NULL,
  to_status   order_status NOT NULL,
  at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX order_events_order ON order_events (order_id, id);

CREATE FUNCTION record_status_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.status IS DISTINCT FROM OLD.status THEN
    INSERT INTO order_events (order_id, from_status, to_status) VALUES (NEW.id, OLD.status, NEW.status);
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER orders_status_events AFTER UPDATE OF status ON orders FOR EACH ROW EXECUTE FUNCTION record_status_change();
