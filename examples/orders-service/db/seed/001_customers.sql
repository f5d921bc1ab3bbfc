-- Init data every developer's and CI's database starts from.
INSERT INTO customers (handle, name, tier) VALUES
  ('ada', 'Ada Lovelace', 'gold'),
  ('grace', 'Grace Hopper', 'standard'),
  ('linus', 'Linus Torvalds', 'standard'),
  ('smoke', 'Smoke test', 'standard');
