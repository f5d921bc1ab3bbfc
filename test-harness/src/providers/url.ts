// The `url` provider: an existing server (a CI service container, a local install). The harness
// creates and drops only its own databases there, and refuses a server that is not clearly a test
// server unless told otherwise.
import { ExitCode, ShipgateError } from '@shipgate/protocol';
import { PgSqlClient } from '../sql/client.js';
import type { DatabaseServer } from './server.js';

const loopbackHosts = new Set(['localhost', '127.0.0.1', '::1', '[::1]', '']);
const testWord = /(^|[^a-z])(test|tests|testing|ci)([^a-z]|$)/i;

/** True for a loopback or unix-socket server, or a host or database named like a test one. */
export function isClearlyTestServer(url: string): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  const socketHost = u.searchParams.get('host');
  if (loopbackHosts.has(u.hostname) || (socketHost?.startsWith('/') ?? false)) return true;
  return testWord.test(u.hostname) || testWord.test(decodeURIComponent(u.pathname.slice(1)));
}

export function maskUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(an unparseable URL)';
  }
}

/** Refuses a server that is not clearly a test server, unless allowed: the harness creates and drops databases there. */
export function assertTestServer(url: string, options: { allowNonTestServer?: boolean } = {}): void {
  if (options.allowNonTestServer || isClearlyTestServer(url)) return;
  throw new ShipgateError('db.not-a-test-server', `${maskUrl(url)} is not clearly a test server (not loopback, no "test" or "ci" in its host or database name)`, {
    hint: 'the harness creates and drops databases there; if that server is meant for it, set allowNonTestServer: true (or SHIPGATE_TEST_ALLOW_SERVER=1)',
  });
}

export async function connectUrlServer(url: string, options: { allowNonTestServer?: boolean } = {}): Promise<DatabaseServer> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ShipgateError('db.url', 'the url provider needs a postgres:// URL', { hint: 'e.g. postgres://postgres:postgres@127.0.0.1:5432/postgres' });
  }
  if (!/^postgres(ql)?:$/.test(parsed.protocol)) throw new ShipgateError('db.url', `unsupported URL scheme ${parsed.protocol}`, { hint: 'use postgres:// or postgresql://' });
  assertTestServer(url, options);
  let client: PgSqlClient;
  try {
    client = await PgSqlClient.connect(url);
  } catch (error) {
    throw new ShipgateError('db.connect', `cannot connect to ${maskUrl(url)}: ${(error as Error).message}`, { hint: 'is the server running, and the URL right?', exitCode: ExitCode.external });
  }
  try {
    const { rows } = await client.query<{ version: string; can: boolean }>(
      `SELECT version() AS version, (SELECT rolcreatedb OR rolsuper FROM pg_roles WHERE rolname = current_user) AS can`,
    );
    if (!rows[0]?.can) throw new ShipgateError('db.privileges', `the user of ${maskUrl(url)} may not create databases`, { hint: 'ALTER ROLE … CREATEDB, or connect as a user that may' });
    return { provider: 'url', adminUrl: url, version: rows[0].version, async stop() {} };
  } finally {
    await client.close();
  }
}
