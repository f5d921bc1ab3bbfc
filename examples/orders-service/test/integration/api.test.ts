// The HTTP API over Postgres, end to end on a fresh database per test.
import { afterEach, describe, expect, it } from '@jest/globals';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { useTestDatabase } from '@shipgate/test-harness/jest';
import { createApp } from '../../src/app.js';
import { PgOrderStore } from '../../src/pg-store.js';
import { expireStaleOrders } from '../../src/worker.js';

const db = useTestDatabase();
let server: Server | undefined;

afterEach(async () => {
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  server = undefined;
});

async function api(): Promise<(method: string, path: string, body?: unknown) => Promise<{ status: number; json: any }>> {
  server = createApp(new PgOrderStore(db.client));
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return async (method, path, body) => {
    const res = await fetch(base + path, { method, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(5000) });
    return { status: res.status, json: await res.json() };
  };
}

describe('orders API on Postgres', () => {
  it('creates, pays and ships an order', async () => {
    const call = await api();
    const created = await call('POST', '/orders', { customer: 'grace', lines: [{ sku: 'BOOK-1', quantity: 1, unitPrice: 1250 }] });
    expect(created).toMatchObject({ status: 201, json: { customer: 'grace', total: 1500, status: 'pending' } });
    expect((await call('POST', `/orders/${created.json.id}/pay`)).json.status).toBe('paid');
    expect((await call('POST', `/orders/${created.json.id}/ship`)).json.status).toBe('shipped');
    expect((await call('POST', `/orders/${created.json.id}/cancel`)).status).toBe(409);
    expect((await call('GET', '/orders')).json).toHaveLength(3);
  });

  it('answers 400 naming the field for an unknown customer', async () => {
    const call = await api();
    expect(await call('POST', '/orders', { customer: 'mallory', lines: [{ sku: 'BOOK-1', quantity: 1, unitPrice: 1 }] })).toEqual({ status: 400, json: { error: 'customer: no customer "mallory"', field: 'customer' } });
  });

  it('the worker cancels pending orders past their age, from the database', async () => {
    const cancelled = await expireStaleOrders(new PgOrderStore(db.client), new Date('2026-02-01T00:00:00Z'), 24 * 3600_000);
    expect(cancelled).toBe(1);
    expect((await db.client.query('SELECT status::text AS s FROM orders ORDER BY created_at')).rows).toEqual([{ s: 'paid' }, { s: 'cancelled' }]);
  });
});
