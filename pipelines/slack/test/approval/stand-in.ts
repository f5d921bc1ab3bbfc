// A loopback stand-in for the shipgate Slack app's approval API (bolt-app/README.md): POST
// /api/approvals (idempotency keys), long-polled GET /api/approvals/:id?wait=, bearer token.
// Tests decide approvals as a Slack click would, and can make the next answers fail.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StoredApproval {
  id: string;
  state: 'pending' | 'approved' | 'rejected' | 'expired';
  request: Record<string, unknown>;
  expiresAt: string;
  decidedBy?: string;
  decidedAt?: string;
  reason?: string;
}

export interface ApprovalAppStandIn {
  url: string;
  token: string;
  approvals: Map<string, StoredApproval>;
  /** Every request seen: method, path with query, authorization header. */
  requests: { method: string; url: string; authorization: string | undefined }[];
  /** Decides an approval as a click in Slack would; wakes waiting long-polls. */
  decide(id: string, state: 'approved' | 'rejected' | 'expired', by?: string, reason?: string): void;
  /** The next `count` requests are answered with `status` (e.g. 503), or the connection is dropped ('drop'). */
  failNext(count: number, status: number | 'drop'): void;
  close(): Promise<void>;
}

async function body(req: IncomingMessage): Promise<string> {
  let text = '';
  for await (const chunk of req) text += String(chunk);
  return text;
}

export async function startApprovalApp(token = 'sg-test-token-9f2c'): Promise<ApprovalAppStandIn> {
  const approvals = new Map<string, StoredApproval>();
  const byKey = new Map<string, string>();
  const waiters = new Map<string, Set<() => void>>();
  const requests: ApprovalAppStandIn['requests'] = [];
  let failures: { count: number; status: number | 'drop' } = { count: 0, status: 503 };
  let next = 0;

  const server: Server = createServer((req, res) => {
    void (async () => {
      requests.push({ method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization });
      const text = await body(req);
      if (failures.count > 0) {
        failures.count -= 1;
        if (failures.status === 'drop') return req.socket.destroy();
        res.writeHead(failures.status, { 'content-type': 'text/plain' }).end('upstream unavailable');
        return;
      }
      const json = (status: number, value: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
      if (req.headers.authorization !== `Bearer ${token}`) return json(401, { error: 'unauthorized' });
      const url = new URL(req.url ?? '/', 'http://stand-in');
      if (req.method === 'POST' && url.pathname === '/api/approvals') {
        const request = JSON.parse(text) as Record<string, unknown>;
        const key = request.idempotencyKey as string | undefined;
        const known = key ? approvals.get(byKey.get(key) ?? '') : undefined;
        if (known) return json(200, { id: known.id, state: known.state, expiresAt: known.expiresAt });
        next += 1;
        const id = `apr_${next}`;
        const expiresAt = new Date(Date.now() + Number(request.expiresInSeconds ?? 3600) * 1000).toISOString();
        approvals.set(id, { id, state: 'pending', request, expiresAt });
        if (key) byKey.set(key, id);
        return json(201, { id, state: 'pending', expiresAt });
      }
      const match = /^\/api\/approvals\/([^/]+)$/.exec(url.pathname);
      if (req.method === 'GET' && match) {
        const id = decodeURIComponent(match[1]!);
        const view = () => {
          const a = approvals.get(id)!;
          return { id: a.id, state: a.state, ...(a.decidedBy ? { decidedBy: a.decidedBy } : {}), ...(a.decidedAt ? { decidedAt: a.decidedAt } : {}), ...(a.reason ? { reason: a.reason } : {}) };
        };
        if (!approvals.has(id)) return json(404, { error: 'not found' });
        const wait = Math.min(Number(url.searchParams.get('wait') ?? 0), 60);
        if (approvals.get(id)!.state !== 'pending' || wait <= 0) return json(200, view());
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, wait * 1000);
          const set = waiters.get(id) ?? new Set();
          waiters.set(id, set);
          set.add(done);
          req.socket.once('close', done);
          function done() {
            clearTimeout(timer);
            set.delete(done);
            resolve();
          }
        });
        if (!res.writableEnded && !req.socket.destroyed) json(200, view());
        return;
      }
      json(404, { error: 'no such route' });
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    token,
    approvals,
    requests,
    decide(id, state, by = 'U0ALICE', reason) {
      const a = approvals.get(id);
      if (!a) throw new Error(`no approval ${id}`);
      Object.assign(a, { state, ...(state === 'expired' ? {} : { decidedBy: by, decidedAt: new Date().toISOString() }), ...(reason ? { reason } : {}) });
      for (const wake of [...(waiters.get(id) ?? [])]) wake();
    },
    failNext(count, status) {
      failures = { count, status };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
