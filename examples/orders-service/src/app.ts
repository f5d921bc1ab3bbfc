// The HTTP API: a handful of JSON endpoints over an OrderStore.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { validateNewOrder, ValidationError } from './orders.js';
import { TransitionError, type OrderStore } from './store.js';

const maxBodyBytes = 64 * 1024;

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBodyBytes) throw new ValidationError('body', `larger than ${maxBodyBytes} bytes`);
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new ValidationError('body', 'is not valid JSON');
  }
}

export function createApp(store: OrderStore): Server {
  return createServer((req, res) => {
    handle(store, req, res).catch((error: unknown) => {
      if (error instanceof ValidationError) return send(res, 400, { error: error.message, field: error.field });
      if (error instanceof TransitionError) return send(res, 409, { error: error.message });
      send(res, 500, { error: 'internal error' });
    });
  });
}

async function handle(store: OrderStore, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const parts = url.pathname.split('/').filter(Boolean);
  if (req.method === 'GET' && url.pathname === '/healthz') return send(res, 200, { status: 'ok' });
  if (parts[0] !== 'orders') return send(res, 404, { error: 'not found' });
  if (parts.length === 1) {
    if (req.method === 'GET') return send(res, 200, await store.list());
    if (req.method === 'POST') return send(res, 201, await store.create(validateNewOrder(await readJson(req))));
  }
  if (parts.length === 2 && req.method === 'GET') {
    const order = await store.get(parts[1]!);
    return order ? send(res, 200, order) : send(res, 404, { error: 'order not found' });
  }
  if (parts.length === 3 && req.method === 'POST' && (parts[2] === 'pay' || parts[2] === 'ship' || parts[2] === 'cancel')) {
    const status = ({ pay: 'paid', ship: 'shipped', cancel: 'cancelled' } as const)[parts[2]];
    const order = await store.setStatus(parts[1]!, status);
    return order ? send(res, 200, order) : send(res, 404, { error: 'order not found' });
  }
  send(res, 405, { error: `${req.method} ${url.pathname} is not supported` });
}
