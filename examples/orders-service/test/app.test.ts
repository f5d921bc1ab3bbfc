import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { AddressInfo } from 'node:net';
import { createApp } from '../src/app.js';
import { MemoryOrderStore } from '../src/store.js';
import { expireStaleOrders } from '../src/worker.js';

const store = new MemoryOrderStore();
const server = createApp(store);
let base = '';

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(base + path, { method, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(5000) });
  return { status: res.status, json: await res.json() };
}

describe('orders API', () => {
  it('answers /healthz', async () => {
    expect(await call('GET', '/healthz')).toEqual({ status: 200, json: { status: 'ok' } });
  });

  it('creates, reads, pays and ships an order', async () => {
    const created = await call('POST', '/orders', { customer: 'ada', lines: [{ sku: 'BOOK-1', quantity: 2, unitPrice: 1250 }] });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ customer: 'ada', status: 'pending', total: 3000 });
    const id = created.json.id as string;
    expect((await call('GET', `/orders/${id}`)).json.id).toBe(id);
    expect((await call('POST', `/orders/${id}/pay`)).json.status).toBe('paid');
    expect((await call('POST', `/orders/${id}/ship`)).json.status).toBe('shipped');
    expect(await call('POST', `/orders/${id}/cancel`)).toMatchObject({ status: 409 });
  });

  it('says which field is wrong', async () => {
    expect(await call('POST', '/orders', { customer: 'ada', lines: [{ sku: 'x', quantity: 1, unitPrice: 1 }] })).toEqual({
      status: 400,
      json: { error: 'lines[0].sku: must look like ABC-123', field: 'lines[0].sku' },
    });
  });

  it('404s an unknown order and 405s an unknown method', async () => {
    expect((await call('GET', '/orders/nope')).status).toBe(404);
    expect((await call('DELETE', '/orders')).status).toBe(405);
  });
});

describe('worker', () => {
  it('cancels stale pending orders only', async () => {
    const s = new MemoryOrderStore();
    const stale = await s.create({ customer: 'a', lines: [{ sku: 'A-1', quantity: 1, unitPrice: 1 }] }, new Date('2026-01-01T00:00:00Z'));
    const fresh = await s.create({ customer: 'b', lines: [{ sku: 'A-1', quantity: 1, unitPrice: 1 }] }, new Date('2026-01-01T00:50:00Z'));
    expect(await expireStaleOrders(s, new Date('2026-01-01T01:00:00Z'), 30 * 60_000)).toBe(1);
    expect((await s.get(stale.id))?.status).toBe('cancelled');
    expect((await s.get(fresh.id))?.status).toBe('pending');
  });
});
