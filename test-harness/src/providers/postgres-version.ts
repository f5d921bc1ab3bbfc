// One Postgres version, stated and enforced. `postgresVersion` names production's major version:
// server providers must run that major, and PGlite (always Postgres 18) is told apart, so a
// migration that only 18 accepts does not pass on PGlite and then fail in production.
import { ExitCode, ShipgateError } from '@shipgate/protocol';

/** The major PGlite runs (its WASM build of Postgres). */
export const pgliteMajor = 18;

/** The major of a version text: `postgres (PostgreSQL) 15.18 (Debian …)`, `PostgreSQL 17.5 on x86_64…`, `180000`. */
export function majorOf(versionText: string): number | undefined {
  const m = /(?:^|\D)(\d{2,})(?:\.\d+|\b)/.exec(versionText);
  if (!m) return undefined;
  const n = Number(m[1]);
  return n >= 100000 ? Math.floor(n / 10000) : n;
}

/** Reads postgresVersion from config or SHIPGATE_TEST_POSTGRES_VERSION; a config error when it is not a major number. */
export function parsePostgresVersion(value: number | string | undefined, from = 'postgresVersion'): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = typeof value === 'number' ? value : Number(String(value).trim());
  if (!Number.isInteger(n) || n < 10 || n > 99) {
    throw new ShipgateError('db.config', `${from} must be a Postgres major version such as 15 or 17, got "${value}"`, { hint: 'name the major your production server runs (SELECT current_setting(\'server_version_num\'))' });
  }
  return n;
}

/** Fails when a server runs another major than the one asked for. */
export function assertServerMajor(provider: string, versionText: string, wanted: number | undefined): void {
  if (wanted === undefined) return;
  const running = majorOf(versionText);
  if (running === undefined || running === wanted) return;
  throw new ShipgateError('db.postgres-version', `the ${provider} provider runs Postgres ${running}, but postgresVersion is ${wanted}`, {
    hint: provider === 'testcontainers' ? `use an image of Postgres ${wanted} (image: or SHIPGATE_TEST_PG_IMAGE)` : `point it at a Postgres ${wanted} server, or change postgresVersion`,
    exitCode: ExitCode.external,
  });
}

/** The testcontainers image for a major: Debian bookworm carries 15, trixie 17 (scripts/build-postgres-image.sh builds either). */
export function defaultImageFor(major: number | undefined): string | undefined {
  if (major === undefined) return undefined;
  return `shipgate/postgres:${major}-${major >= 17 ? 'trixie' : 'bookworm'}`;
}

/**
 * A migration or seed that the target major rejects although PGlite accepted it: the same
 * file:line, and both versions named.
 */
export function versionMismatchError(error: ShipgateError, target: number): ShipgateError {
  return new ShipgateError('db.postgres-version', `fails on Postgres ${target} (postgresVersion), though PGlite's Postgres ${pgliteMajor} accepts it: ${error.message}`, {
    ...(error.location ? { location: error.location } : {}),
    hint: `production runs Postgres ${target}: write it so that ${target} accepts it (or raise postgresVersion once production is on ${pgliteMajor})`,
    exitCode: ExitCode.failed,
  });
}
