// PgOrderStore against a real database: db/migrations applied, db/seed loaded, fresh for each test.
import { describe, expect, it } from '@jest/globals';
import { useTestDatabase } from '@shipgate/test-harness/jest';
import { ValidationError } from '../../src/orders.js';
import { PgOrderStore } from '../../src/pg-store.js';
import { TransitionError } from '../../src/store.js';

const db = useTestDatabase();
const store = () => new PgOrderStore(db.client);
const count = async (table: string) => (await db.client.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]!.n;

describe('PgOrderStore', () => {
  it('starts from the seed data', async () => {
    const orders = await store().list();
    expect(orders.map((o) => [o.customer, o.status, o.total])).toEqual([
      ['ada', 'paid', 3000],
      ['grace', 'pending', 960],
    ]);
    expect(orders[0]!.lines).toEqual([{ sku: 'BOOK-1', quantity: 2, unitPrice: 1250 }]);
    expect((await db.client.query('SELECT handle, orders, total FROM customer_spend ORDER BY handle')).rows).toEqual([
      { handle: 'ada', orders: 1, total: 3000 },
      { handle: 'grace', orders: 0, total: 0 },
      { handle: 'linus', orders: 0, total: 0 },
      { handle: 'smoke', orders: 0, total: 0 },
    ]);
  });

  it('creates an order with its lines, total with tax, and reads it back', async () => {
    const created = await store().create({ customer: 'linus', lines: [{ sku: 'MUG-3', quantity: 3, unitPrice: 1100 }, { sku: 'PEN-2', quantity: 1, unitPrice: 800 }] }, new Date('2026-03-01T12:00:00Z'));
    expect(created).toMatchObject({ customer: 'linus', status: 'pending', total: 4920, createdAt: '2026-03-01T12:00:00.000Z' });
    expect(await store().get(created.id)).toEqual(created);
    expect(await count('order_lines')).toBe(4);
  });

  it('a test never sees what another test wrote', async () => {
    expect(await count('orders')).toBe(2);
    expect(await count('order_lines')).toBe(2);
  });

  it('an unknown customer or SKU is a validation error and writes nothing', async () => {
    await expect(store().create({ customer: 'nobody', lines: [{ sku: 'PEN-2', quantity: 1, unitPrice: 800 }] })).rejects.toMatchObject({ field: 'customer' });
    const unknownSku = store().create({ customer: 'ada', lines: [{ sku: 'PEN-2', quantity: 1, unitPrice: 800 }, { sku: 'NOPE-1', quantity: 1, unitPrice: 1 }] });
    await expect(unknownSku).rejects.toBeInstanceOf(ValidationError);
    await expect(unknownSku).rejects.toMatchObject({ field: 'lines' });
    expect(await count('orders')).toBe(2);
  });

  it('status changes follow the rules and the database records each one', async () => {
    const id = '00000000-0000-4000-8000-000000000002';
    await store().setStatus(id, 'paid');
    await store().setStatus(id, 'shipped');
    await expect(store().setStatus(id, 'cancelled')).rejects.toBeInstanceOf(TransitionError);
    const events = await db.client.query('SELECT from_status::text AS "from", to_status::text AS "to" FROM order_events WHERE order_id = $1 ORDER BY id', [id]);
    expect(events.rows).toEqual([
      { from: 'pending', to: 'paid' },
      { from: 'paid', to: 'shipped' },
    ]);
    expect(await store().setStatus('not-a-uuid', 'paid')).toBeUndefined();
    expect(await store().setStatus('00000000-0000-4000-8000-00000000ffff', 'paid')).toBeUndefined();
  });
});
