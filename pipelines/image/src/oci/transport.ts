// The registry client's default HTTP transport: node:http / node:https on keep-alive agents, shaped
// as a fetch function so that tests and callers can still inject their own.
//
// Why not global fetch: undici's fetch closes the connection after every HEAD request (it cannot
// tell whether a server sent a body after all), and a registry answers "what does this tag point
// at" with HEAD — it is what Docker Hub does not count against pull limits. On a near registry
// that made every promote open a new TCP connection, and the registry's work on it was a third of
// the promote's time. node:http keeps HEAD connections alive, and answers a small request in
// about half of fetch's time.
//
// Scope: what the registry API needs. Small bodies are buffered, large ones streamed; redirects
// of GET / HEAD / DELETE are followed (blob downloads are often redirected to object storage) and
// the Authorization header is dropped when the redirect leaves the registry's origin, as fetch does.
import http from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';

/** `fetch`'s shape: what the registry client sends its requests through. */
export type FetchFunction = (input: string, init?: RequestInit) => Promise<Response>;

/** Responses up to this size are read into memory before they are handed over. */
const bufferLimit = 1024 * 1024;
const maxRedirects = 5;
const redirectStatuses = new Set([301, 302, 303, 307, 308]);
const nullBodyStatuses = new Set([101, 103, 204, 205, 304]);

function headersOf(init: RequestInit | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  new Headers(init?.headers).forEach((value, key) => {
    out[key] = value;
  });
  return out;
}

function toResponse(message: http.IncomingMessage, body: Buffer | ReadableStream<Uint8Array> | null, url: string): Response {
  const headers = new Headers();
  const raw = message.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) headers.append(raw[i]!, raw[i + 1]!);
  const response = new Response(body, { status: message.statusCode!, statusText: message.statusMessage ?? '', headers });
  Object.defineProperty(response, 'url', { value: url });
  return response;
}

export interface NodeTransportOptions {
  /** Idle keep-alive sockets kept per host. Default 8. */
  maxFreeSockets?: number;
}

/** A fetch-shaped function over node:http / node:https with keep-alive connections. */
export function nodeTransport(options: NodeTransportOptions = {}): FetchFunction {
  const agentOptions = { keepAlive: true, maxFreeSockets: options.maxFreeSockets ?? 8 };
  const agents = { 'http:': new http.Agent(agentOptions), 'https:': new https.Agent(agentOptions) };

  const once = (url: URL, method: string, headers: Record<string, string>, body: RequestInit['body'], signal: AbortSignal | undefined): Promise<http.IncomingMessage> =>
    new Promise((resolve, reject) => {
      const lib = url.protocol === 'https:' ? https : url.protocol === 'http:' ? http : undefined;
      if (!lib) {
        reject(new TypeError(`unsupported protocol ${url.protocol}`));
        return;
      }
      const request = lib.request(url, { method, headers, agent: agents[url.protocol as 'http:' | 'https:'], ...(signal ? { signal } : {}) }, resolve);
      // like fetch, an aborted request rejects with the signal's reason (a TimeoutError for a timeout)
      request.on('error', (error) => reject(signal?.aborted ? signal.reason : error));
      if (body === undefined || body === null) request.end();
      else if (Buffer.isBuffer(body) || body instanceof Uint8Array || typeof body === 'string') request.end(body);
      else if (body instanceof ReadableStream) {
        const stream = Readable.fromWeb(body as import('node:stream/web').ReadableStream);
        stream.on('error', (error) => request.destroy(error));
        stream.pipe(request);
      } else reject(new TypeError('unsupported request body'));
    });

  return async (input, init) => {
    let url = new URL(input);
    let method = (init?.method ?? 'GET').toUpperCase();
    const headers = headersOf(init);
    const signal = init?.signal ?? undefined;
    const origin = url.origin;
    for (let hop = 0; ; hop += 1) {
      const message = await once(url, method, headers, init?.body, signal);
      const location = message.headers.location;
      const follow = init?.redirect !== 'manual' && redirectStatuses.has(message.statusCode!) && location && ['GET', 'HEAD', 'DELETE'].includes(method);
      if (follow) {
        message.resume();
        await finished(message);
        if (hop >= maxRedirects) throw new TypeError(`more than ${maxRedirects} redirects from ${input}`);
        url = new URL(location, url);
        if (message.statusCode === 303 && method !== 'HEAD') method = 'GET';
        if (url.origin !== origin) delete headers.authorization;
        continue;
      }
      if (method === 'HEAD' || nullBodyStatuses.has(message.statusCode!)) {
        // waiting for the (empty) end hands the socket back to the pool before the next request
        message.resume();
        await finished(message);
        return toResponse(message, null, url.toString());
      }
      const length = Number(message.headers['content-length'] ?? Number.NaN);
      if (Number.isFinite(length) && length <= bufferLimit) {
        const chunks: Buffer[] = [];
        try {
          for await (const chunk of message) chunks.push(chunk as Buffer);
        } catch (error) {
          throw signal?.aborted ? signal.reason : error;
        }
        return toResponse(message, Buffer.concat(chunks), url.toString());
      }
      return toResponse(message, Readable.toWeb(message) as ReadableStream<Uint8Array>, url.toString());
    }
  };
}

let shared: FetchFunction | undefined;

/** One transport for the process, so every client reuses the same warm connections. */
export function defaultTransport(): FetchFunction {
  shared ??= nodeTransport();
  return shared;
}
