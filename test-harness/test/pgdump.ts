// Real pg_dump output for the tests and the benchmark: loads fixtures/pgdump/sample-db.sql into a
// real Postgres (the postgres provider's own server), dumps it with the machine's pg_dump as plain
// SQL, custom (-Fc) and directory (-Fd) archives, and records a checksum of every table so a
// loaded copy can be compared row for row.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findPostgresBinaries, startPostgres } from '../src/providers/postgres.js';
import { dropDatabase, hostTag, marker, urlFor } from '../src/providers/server.js';
import { ident, literal, PgSqlClient, type SqlClient } from '../src/sql/client.js';

const here = path.dirname(fileURLToPath(import.meta.url));
export const sampleSchemaFile = path.join(here, 'fixtures/pgdump/sample-db.sql');
/** pg_dump 15.18 of sample-db.sql at scale 0.01 (committed: tests that need no server use it). */
export const smallDumpFile = path.join(here, 'fixtures/pgdump/small-dump.sql');

export interface SampleDumps {
  dir: string;
  plain: string;
  custom: string;
  directory: string;
  /** table → md5 of its rows, from the source database. */
  checksums: Record<string, string>;
  rows: number;
  cleanup(): void;
}

/** Table name → md5 over its rows as text, in order (partitions separately; partitioned parents have no rows of their own). */
export async function tableChecksums(client: SqlClient): Promise<Record<string, string>> {
  await client.exec("SET TimeZone = 'UTC'; SET extra_float_digits = 1");
  const { rows: tables } = await client.query<{ name: string }>(
    `SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind = 'r' AND n.nspname = 'public' ORDER BY 1`,
  );
  const out: Record<string, string> = {};
  for (const { name } of tables) {
    const { rows } = await client.query<{ sum: string | null; n: number }>(`SELECT md5(string_agg(t::text, E'\\n' ORDER BY t::text)) AS sum, count(*)::int AS n FROM ${name} t`);
    out[name] = `${rows[0]!.n}:${rows[0]!.sum ?? ''}`;
  }
  return out;
}

export function totalRows(checksums: Record<string, string>): number {
  return Object.values(checksums).reduce((sum, v) => sum + Number(v.split(':')[0]), 0);
}

/** Builds the sample database at `scale` (1 = about 50,000 rows) on a real server and dumps it three ways. */
export async function makeSampleDumps(scale: number): Promise<SampleDumps> {
  const bin = findPostgresBinaries();
  if (!bin) throw new Error('makeSampleDumps needs Postgres binaries (pg_dump)');
  const server = await startPostgres();
  const name = `shipgate_t_${hostTag}_${process.pid}_dumpsrc`;
  const admin = await PgSqlClient.connect(server.adminUrl);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sg-pgdump-'));
  try {
    await dropDatabase(admin, name);
    await admin.exec(`CREATE DATABASE ${ident(name)}`);
    await admin.exec(`COMMENT ON DATABASE ${ident(name)} IS ${literal(`${marker} dump-source pid=${process.pid} host=${hostTag}`)}`);
    const url = urlFor(server.adminUrl, name);
    const source = await PgSqlClient.connect(url);
    let checksums: Record<string, string>;
    try {
      await source.exec(`SET sample.scale = ${literal(String(scale))};\n${readFileSync(sampleSchemaFile, 'utf8')}`);
      checksums = await tableChecksums(source);
    } finally {
      await source.close();
    }
    const pgDump = path.join(bin, 'pg_dump');
    const plain = path.join(dir, 'sample.sql');
    const custom = path.join(dir, 'sample.dump');
    const directory = path.join(dir, 'sample.dir');
    execFileSync(pgDump, ['-f', plain, url]);
    execFileSync(pgDump, ['-Fc', '-f', custom, url]);
    execFileSync(pgDump, ['-Fd', '-f', directory, url]);
    return { dir, plain, custom, directory, checksums, rows: totalRows(checksums), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  } finally {
    await dropDatabase(admin, name).catch(() => undefined);
    await admin.close();
    await server.stop();
  }
}
