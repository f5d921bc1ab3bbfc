// The jest integration as users run it: a real jest process on a project that uses
// `preset: '@shipgate/test-harness/jest'` and `useTestDatabase()`, with two parallel workers.
import { afterAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { prepareHarness } from '../src/harness.js';
import { PgSqlClient } from '../src/sql/client.js';
import { postgresAvailable } from './helpers.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A copy of the fixture project that resolves the workspace's packages. */
function userProject(extra: Record<string, string> = {}): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sg-th-jest-'));
  dirs.push(dir);
  cpSync(path.join(here, 'fixtures/project'), dir, { recursive: true, filter: (src) => !src.includes('node_modules') });
  symlinkSync(path.join(repo, 'node_modules'), path.join(dir, 'node_modules'));
  for (const [name, text] of Object.entries(extra)) writeFileSync(path.join(dir, name), text);
  return dir;
}

function jest(dir: string, env: Record<string, string>): Promise<{ code: number | null; output: string; records: Array<{ test: string; db: string; pid: number }> }> {
  const recordFile = path.join(dir, 'records.jsonl');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--experimental-vm-modules', '--no-warnings', path.join(repo, 'node_modules/jest/bin/jest.js'), '--maxWorkers=2', '--ci'], {
      cwd: dir,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, RECORD_FILE: recordFile, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const records = existsSync(recordFile) ? readFileSync(recordFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { test: string; db: string; pid: number }) : [];
      resolve({ code, output, records });
    });
  });
}

describe('jest preset', () => {
  it('pglite (default): every test starts from the seed, in two parallel workers, transaction isolation', async () => {
    const r = await jest(userProject(), {});
    expect(r.output).toContain('Tests:       8 passed, 8 total');
    expect(r.code).toBe(0);
    expect(r.output).toMatch(/pglite: template (built|reused) in \d+ ms \(isolation: transaction\)/);
    expect(r.records).toHaveLength(8);
    expect(new Set(r.records.map((x) => x.pid)).size).toBe(2); // both workers ran tests
  });

  it('a failing migration stops the run with file:line:col and the server error, without a stack trace', async () => {
    const dir = userProject();
    writeFileSync(path.join(dir, 'db/migrations/V3__broken.sql'), 'ALTER TABLE orders\n  ADD COLUMN note text,\n  ADD COLUMN oops;\n');
    const r = await jest(dir, {});
    expect(r.code).not.toBe(0);
    expect(r.output).toMatch(/db\/migrations\/V3__broken\.sql:3:\d+: migration failed: syntax error at or near ";"/);
    expect(r.output).not.toMatch(/\n\s+at .*harness/);
  });

  const postgres = postgresAvailable() ? it : it.skip;
  postgres('postgres: a fresh clone per test, and none left after the run', async () => {
    const serverDir = mkdtempSync(path.join(os.tmpdir(), 'sg-th-pg-'));
    dirs.push(serverDir);
    const dir = userProject();
    const r = await jest(dir, { SHIPGATE_TEST_PROVIDER: 'postgres', SHIPGATE_TEST_SERVER_DIR: serverDir });
    expect(r.output).toContain('Tests:       8 passed, 8 total');
    expect(r.code).toBe(0);
    const names = r.records.map((x) => x.db);
    expect(new Set(names).size).toBe(8); // no two tests shared a database
    for (const name of names) expect(name).toMatch(/^shipgate_t_[0-9a-f]{6}_\d+_[0-9a-z]+_\d+_[0-9a-f]{8}$/); // the owner is in the name

    // the cluster is kept between runs: start it again and look for leftovers
    const again = await prepareHarness({ provider: 'postgres', migrations: 'db/migrations', seed: 'db/seed', cwd: dir, serverDir });
    try {
      expect(again.state.built).toBe(false); // the template was kept
      const admin = await PgSqlClient.connect(again.state.adminUrl!);
      const { rows } = await admin.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname LIKE 'shipgate\\_t\\_%'");
      await admin.close();
      expect(rows.map((x) => x.datname).filter((n) => names.includes(n))).toEqual([]);
    } finally {
      await again.stop();
    }
  });
});
