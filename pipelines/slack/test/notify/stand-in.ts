// A loopback stand-in for Slack: chat.postMessage as the Web API answers it (HTTP 200 with
// `{ ok, error }`, 429 with Retry-After) and an incoming webhook (200 "ok", or 4xx with the error
// as plain text). Known channels and the bot token are set by the test.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SlackStandIn {
  apiUrl: string;
  webhookUrl: string;
  /** Posts received: path, authorization header, parsed JSON body. */
  posts: { path: string; authorization: string | undefined; body: Record<string, unknown> }[];
  /** The next `count` answers are 429 with this Retry-After (seconds), or a 503. */
  throttleNext(count: number, retryAfterSeconds?: number): void;
  close(): Promise<void>;
}

export async function startSlack(options: { token: string; channels: Record<string, string>; webhookPath: string; webhookChannelArchived?: boolean }): Promise<SlackStandIn> {
  const posts: SlackStandIn['posts'] = [];
  let throttle = { count: 0, retryAfter: 0 };
  let ts = 1733040000;
  const server: Server = createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://stand-in');
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(text) as Record<string, unknown>;
      } catch {
        // a webhook answers invalid_payload below
      }
      posts.push({ path: url.pathname, authorization: req.headers.authorization, body });
      if (throttle.count > 0) {
        throttle.count -= 1;
        if (throttle.retryAfter) res.writeHead(429, { 'retry-after': String(throttle.retryAfter) }).end();
        else res.writeHead(503).end();
        return;
      }
      const json = (value: unknown) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(value));
      if (url.pathname === '/api/chat.postMessage') {
        if (!req.headers.authorization) return json({ ok: false, error: 'not_authed' });
        if (req.headers.authorization !== `Bearer ${options.token}`) return json({ ok: false, error: 'invalid_auth' });
        const channel = options.channels[String(body.channel)];
        if (!channel) return json({ ok: false, error: 'channel_not_found' });
        if (!body.text && !body.blocks) return json({ ok: false, error: 'no_text' });
        ts += 1;
        return json({ ok: true, channel, ts: `${ts}.000100`, message: { text: body.text } });
      }
      if (url.pathname === options.webhookPath) {
        if (options.webhookChannelArchived) return res.writeHead(410, { 'content-type': 'text/plain' }).end('channel_is_archived');
        if (!body.text) return res.writeHead(400, { 'content-type': 'text/plain' }).end('invalid_payload');
        return res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      }
      res.writeHead(404, { 'content-type': 'text/plain' }).end('no_service');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  return {
    apiUrl: `${origin}/api/`,
    webhookUrl: `${origin}${options.webhookPath}`,
    posts,
    throttleNext(count, retryAfterSeconds = 0) {
      throttle = { count, retryAfter: retryAfterSeconds };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
