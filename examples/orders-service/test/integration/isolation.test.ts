// Many small tests, each on its own database: every one sees exactly the seed plus its own writes.
// ORDERS_TEST_REPEAT sets how many (the test-harness benchmark runs 1,000 of them).
import { describe, expect, it } from '@jest/globals';
import { useTestDatabase } from '@shipgate/test-harness/jest';
import { PgOrderStore } from '../../src/pg-store.js';

const db = useTestDatabase();
const repeat = Math.max(1, Math.min(5000, Number(process.env.ORDERS_TEST_REPEAT ?? 10)));
const customers = ['ada', 'grace', 'linus', 'smoke'];

describe('isolated tests', () => {
  it.each(Array.from({ length: repeat }, (_, i) => i))('test %i: an order and its payment, alone on the database', async (i) => {
    const store = new PgOrderStore(db.client);
    const order = await store.create({ customer: customers[i % customers.length]!, lines: [{ sku: 'PEN-2', quantity: 1 + (i % 3), unitPrice: 800 }] });
    await store.setStatus(order.id, 'paid');
    const { rows } = await db.client.query<{ n: number; events: number }>('SELECT (SELECT count(*)::int FROM orders) AS n, (SELECT count(*)::int FROM order_events) AS events');
    expect(rows[0]).toEqual({ n: 3, events: 2 }); // the seed's two orders (one event) + this one
  });
});
