// Entry point of the worker: cancels pending orders older than ORDER_MAX_AGE_MINUTES, once.
import { expiredOrders } from './orders.js';
import { MemoryOrderStore, type OrderStore } from './store.js';

export async function expireStaleOrders(store: OrderStore, now: Date, maxAgeMs: number): Promise<number> {
  const stale = expiredOrders(await store.list(), now, maxAgeMs);
  for (const order of stale) await store.setStatus(order.id, 'cancelled');
  return stale.length;
}

if (process.argv[1]?.endsWith('worker.js')) {
  const maxAgeMs = Number(process.env.ORDER_MAX_AGE_MINUTES ?? 30) * 60_000;
  const count = await expireStaleOrders(new MemoryOrderStore(), new Date(), maxAgeMs);
  console.log(`expired ${count} stale orders`);
}
