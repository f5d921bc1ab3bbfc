// The plain-HTTP vocabulary of the registry client: what a request to a registry says (method,
// path, repository and scopes for its token, statuses it expects, whether it may be repeated), the
// registry's error text out of a response, and how to let go of a response body without losing
// the keep-alive connection.

export interface CallOptions {
  signal?: AbortSignal;
}

export interface RequestSpec {
  method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'DELETE';
  /** Path below the registry root (`/v2/…`) or an absolute URL (upload locations). */
  path: string;
  repository: string;
  push?: boolean;
  /** Extra scopes this request needs (a mount also reads the source repository). */
  scopes?: string[];
  headers?: Record<string, string>;
  body?: Buffer | ReadableStream<Uint8Array>;
  signal?: AbortSignal;
  /** Statuses returned to the caller instead of turned into errors. */
  accept: number[];
  /** Whether a failed attempt may be repeated (a streamed body cannot be sent twice). */
  retryable?: boolean;
}

/** `GET registry/v2/…` for messages (an absolute upload URL shows only its path). */
export function describeRequest(registry: string, spec: RequestSpec): string {
  return `${spec.method} ${registry}${spec.path.startsWith('http') ? new URL(spec.path).pathname : spec.path}`;
}

/** The registry's own words for a failed response: its `errors[]` codes and messages, else the body's start. */
export async function registryErrorText(response: Response): Promise<string> {
  const text = await response.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { errors?: Array<{ code?: string; message?: string }> };
    if (body.errors?.length) return body.errors.map((e) => [e.code, e.message].filter(Boolean).join(': ')).join('; ');
  } catch {
    // not JSON: fall through
  }
  return text.slice(0, 200).trim() || response.statusText;
}

/** Bodies up to this size are read to the end rather than cancelled. */
const drainLimit = 64 * 1024;

/**
 * Ends a response whose body is not wanted. A small body is read to the end so the keep-alive
 * connection goes back to the pool: cancelling it makes fetch close the socket, and the next
 * request then pays a new TCP connection (on a near registry that doubled a promote's time).
 */
export async function discard(response: Response): Promise<void> {
  if (!response.body) return;
  const length = Number(response.headers.get('content-length') ?? Number.NaN);
  if (Number.isFinite(length) && length <= drainLimit) {
    await response.arrayBuffer().catch(() => undefined);
    return;
  }
  await response.body.cancel().catch(() => undefined);
}
