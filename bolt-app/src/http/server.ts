// The app's one HTTP server: Slack's requests (/slack/events, HTTP mode only), the pipelines' API
// (/api/…), /healthz and /metrics. Everything else is 404.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AppConfig } from '../config.js';
import type { SlackEventsReceiver } from '../slack/receiver.js';
import type { Store } from '../store/store.js';
import type { AppMetrics } from './metrics.js';

export interface HttpServerParts {
  /** The Slack receiver; absent in Socket Mode. */
  httpReceiver: SlackEventsReceiver | undefined;
  api: (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void> | void;
  store: Store;
  metrics: AppMetrics;
  config: () => AppConfig;
  mode: 'http' | 'socket';
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** 200 once the store answers, with what the replica runs on; 503 otherwise. */
async function health(parts: HttpServerParts, res: ServerResponse): Promise<void> {
  const { status, body } = await parts.store
    .ping()
    .then(() => ({ status: 200, body: { ok: true, store: parts.store.db.engine, mode: parts.mode, environments: Object.keys(parts.config().environments) } }))
    .catch((error: unknown) => ({ status: 503, body: { ok: false, error: `store: ${(error as Error).message}` } }));
  sendJson(res, status, body);
}

async function metricsText(metrics: AppMetrics, res: ServerResponse): Promise<void> {
  try {
    const text = await metrics.registry.metrics();
    res.writeHead(200, { 'content-type': metrics.registry.contentType });
    res.end(text);
  } catch (error) {
    res.writeHead(500);
    res.end(String((error as Error).message));
  }
}

export function createHttpServer(parts: HttpServerParts): Server {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/slack/events' && parts.httpReceiver) return parts.httpReceiver.requestListener(req, res);
    if (url.pathname.startsWith('/api/')) return void parts.api(req, res, url);
    if (url.pathname === '/healthz' && req.method === 'GET') return void health(parts, res);
    if (url.pathname === '/metrics' && req.method === 'GET') return void metricsText(parts.metrics, res);
    sendJson(res, 404, { error: { code: 'http.not-found', message: `no such endpoint: ${url.pathname}` } });
  });
  server.keepAliveTimeout = 65_000;
  return server;
}
