// Docker Hub style token auth in front of a real registry: requests without a valid token get
// `401 WWW-Authenticate: Bearer realm=…/token,service=…,scope=repository:<name>:<actions>`; the
// token endpoint takes Basic credentials and issues a token for the scopes asked; tokens are only
// good for the repositories and actions they were issued for. Everything else is forwarded
// unchanged to the registry, so the real registry stays in the path.
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';

export interface BearerProxy {
  host: string;
  url: string;
  /** Every token request: service and scopes asked for. */
  tokenRequests: Array<{ service: string | null; scopes: string[] }>;
  stop(): Promise<void>;
}

function scopeOf(method: string, pathname: string): { repository: string; action: 'pull' | 'push' } | undefined {
  const m = /^\/v2\/(.+?)\/(manifests|blobs|tags)\//.exec(pathname);
  if (!m) return undefined;
  return { repository: m[1]!, action: method === 'GET' || method === 'HEAD' ? 'pull' : 'push' };
}

export interface BearerProxyOptions {
  /** Answer cross-repository mounts the way registries do when they will not mount: open a plain upload (202). */
  refuseMounts?: boolean;
}

export async function startBearerProxy(upstream: string, credentials: { username: string; password: string }, options: BearerProxyOptions = {}): Promise<BearerProxy> {
  const tokens = new Map<string, Set<string>>(); // token → "repo:action"
  const tokenRequests: BearerProxy['tokenRequests'] = [];
  const target = new URL(upstream);
  let self = '';

  const challenge = (res: ServerResponse, scope: string) => {
    res.writeHead(401, {
      'www-authenticate': `Bearer realm="${self}/token",service="proxy.test",scope="${scope}"`,
      'content-type': 'application/json',
    });
    res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }));
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', self);
    if (url.pathname === '/token') {
      const scopes = url.searchParams.getAll('scope');
      tokenRequests.push({ service: url.searchParams.get('service'), scopes });
      const expected = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
      if (req.headers.authorization !== expected) {
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ details: 'incorrect username or password' }));
        return;
      }
      const granted = new Set<string>();
      for (const scope of scopes) {
        const [, repository, actions] = /^repository:(.+):([a-z,]+)$/.exec(scope) ?? [];
        for (const action of actions?.split(',') ?? []) granted.add(`${repository}:${action}`);
      }
      const token = randomUUID();
      tokens.set(token, granted);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ token, access_token: token, expires_in: 300 }));
      return;
    }
    const needed = scopeOf(req.method ?? 'GET', url.pathname);
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const granted = bearer ? tokens.get(bearer) : undefined;
    if (url.pathname === '/v2/' && !granted) return challenge(res, '');
    if (needed) {
      const scope = `repository:${needed.repository}:${needed.action === 'push' ? 'pull,push' : 'pull'}`;
      if (!granted?.has(`${needed.repository}:${needed.action}`)) return challenge(res, scope);
      // a cross-repository mount also reads the source repository
      const from = url.searchParams.get('from');
      if (from && !granted.has(`${from}:pull`)) return challenge(res, `${scope} repository:${from}:pull`);
    }
    const headers = { ...req.headers };
    delete headers.authorization;
    let forwardPath = req.url ?? '/';
    if (options.refuseMounts && url.searchParams.has('mount')) forwardPath = url.pathname;
    const forward = httpRequest(
      { host: target.hostname, port: target.port, method: req.method, path: forwardPath, headers },
      (upstreamResponse) => {
        res.writeHead(upstreamResponse.statusCode ?? 502, upstreamResponse.headers);
        upstreamResponse.pipe(res);
      },
    );
    forward.on('error', () => {
      res.writeHead(502);
      res.end();
    });
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  self = `http://127.0.0.1:${port}`;
  return {
    host: `127.0.0.1:${port}`,
    url: self,
    tokenRequests,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
