// Entry point of the worker: cancels pending orders older than ORDER_MAX_AGE_MINUTES, once. Uses
// Postgres when DATABASE_URL is set, memory otherwise.
import { expiredOrders } from './orders.js';
import { MemoryOrderStore, type OrderStore } from './store.js';

export async function expireStaleOrders(store: OrderStore, now: Date, maxAgeMs: number): Promise<number> {
  const stale = expiredOrders(await store.list(), now, maxAgeMs);
  for (const order of stale) await store.setStatus(order.id, 'cancelled');
  return stale.length;
}

if (process.argv[1]?.endsWith('worker.js')) {
  const maxAgeMs = Number(process.env.ORDER_MAX_AGE_MINUTES ?? 30) * 60_000;
  let store: OrderStore = new MemoryOrderStore();
  let close = async () => {};
  if (process.env.DATABASE_URL) {
    const [{ default: pg }, { PgOrderStore }] = await Promise.all([import('pg'), import('./pg-store.js')]);
    const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 2 });
    store = new PgOrderStore(pool);
    close = () => pool.end();
  }
  const count = await expireStaleOrders(store, new Date(), maxAgeMs);
  await close();
  console.log(`expired ${count} stale orders`);
}
