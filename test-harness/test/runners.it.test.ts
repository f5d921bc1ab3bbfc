// The harness under the other runners teams use, run for real: Vitest (`@shipgate/test-harness/vitest`,
// the same useTestDatabase(), isolation modes and template cache as with jest) and node:test (the
// core API, as the README's five-line example shows it).
import { afterAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { postgresAvailable } from './helpers.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const vitestTest = (file: string) => `import { appendFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { useTestDatabase } from '@shipgate/test-harness/vitest';

const db = useTestDatabase();

for (let i = 0; i < 4; i += 1) {
  test('${file}' + i + ': starts from the seed, and sees what its isolation lets it see', async () => {
    const { rows } = await db.client.query("SELECT name, total_cents FROM customer_totals WHERE name IN ('ada', 'linus') ORDER BY id");
    expect(rows).toEqual([{ name: 'ada', total_cents: 1500 }, { name: 'linus', total_cents: 50 }]);
    const seen = (await db.client.query("SELECT count(*)::int AS n FROM customers WHERE name LIKE 'written%'")).rows[0].n;
    await db.client.query("INSERT INTO customers (name) VALUES ('written by ${file}" + i + "')");
    const id = (await db.client.query('SELECT current_database() AS d')).rows[0];
    appendFileSync(process.env.RECORD_FILE, JSON.stringify({ test: '${file}' + i, db: id.d, pid: process.pid, seen }) + '\\n');
  });
}
`;

// The README's node:test example, word for word between the markers.
const nodeTest = `import assert from 'node:assert/strict';
import { after, test } from 'node:test';
// --- README
import { openHarness, prepareHarness } from '@shipgate/test-harness';
const prepared = await prepareHarness({ migrations: 'db/migrations', seed: 'db/seed' });
const harness = openHarness(prepared.state);
after(async () => { await harness.close(); await prepared.stop(); });
const fresh = async (fn) => { const db = await harness.acquire(); try { await fn(db); } finally { await db.release(); } };
// --- README
for (const name of ['grace', 'alan']) {
  test('starts from the seed: ' + name, () => fresh(async (db) => {
    assert.equal((await db.client.query('SELECT count(*)::int AS n FROM customers')).rows[0].n, 2);
    await db.client.query('INSERT INTO customers (name) VALUES ($1)', [name]);
  }));
}
`;

/** A user's project (the fixture's migrations and seed) that resolves the workspace's packages. */
function userProject(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sg-th-runner-'));
  dirs.push(dir);
  cpSync(path.join(here, 'fixtures/project/db'), path.join(dir, 'db'), { recursive: true });
  symlinkSync(path.join(repo, 'node_modules'), path.join(dir, 'node_modules'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

function run(dir: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; output: string; records: Array<{ test: string; db: string; pid: number; seen: number }> }> {
  const recordFile = path.join(dir, 'records.jsonl');
  rmSync(recordFile, { force: true });
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: dir, env: { PATH: process.env.PATH, HOME: process.env.HOME, RECORD_FILE: recordFile, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 150_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const records = existsSync(recordFile) ? readFileSync(recordFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { test: string; db: string; pid: number; seen: number }) : [];
      resolve({ code, output, records });
    });
  });
}

const vitestBin = path.join(repo, 'node_modules/vitest/vitest.mjs');
function vitestProject(): string {
  return userProject({
    'vitest.config.mjs': "import { shipgateTestHarness } from '@shipgate/test-harness/vitest/config';\nexport default { test: { include: ['tests/**/*.test.mjs'], ...shipgateTestHarness({ migrations: 'db/migrations', seed: 'db/seed' }) } };\n",
    'tests/a.test.mjs': vitestTest('a'),
    'tests/b.test.mjs': vitestTest('b'),
  });
}

describe('vitest', () => {
  it('pglite (default): every test starts from the seed, in parallel files, transaction isolation; the second run reuses the template', async () => {
    const dir = vitestProject();
    const first = await run(dir, [vitestBin, 'run']);
    expect(first.output).toMatch(/Tests\s+8 passed \(8\)/);
    expect(first.code).toBe(0);
    expect(first.output).toMatch(/pglite: template (built|reused) in \d+ ms \(isolation: transaction\)/);
    expect(first.records).toHaveLength(8);
    expect(first.records.map((x) => x.seen)).toEqual([0, 0, 0, 0, 0, 0, 0, 0]); // each test rolled back
    const second = await run(dir, [vitestBin, 'run']);
    expect(second.code).toBe(0);
    expect(second.output).toMatch(/pglite: template reused in \d+ ms/);
  }, 180_000);

  const postgres = postgresAvailable() ? it : it.skip;
  postgres('postgres: a fresh clone per test (isolation test), none shared', async () => {
    const r = await run(vitestProject(), [vitestBin, 'run'], { SHIPGATE_TEST_PROVIDER: 'postgres' });
    expect(r.output).toMatch(/Tests\s+8 passed \(8\)/);
    expect(r.code).toBe(0);
    expect(new Set(r.records.map((x) => x.db)).size).toBe(8);
    expect(r.records.every((x) => x.seen === 0)).toBe(true);
  }, 180_000);

  postgres('postgres with isolation file: one clone per file', async () => {
    const r = await run(vitestProject(), [vitestBin, 'run'], { SHIPGATE_TEST_PROVIDER: 'postgres', SHIPGATE_TEST_ISOLATION: 'file' });
    expect(r.code).toBe(0);
    expect(new Set(r.records.map((x) => x.db)).size).toBe(2);
    // tests of one file share its clone, in order
    for (const file of ['a', 'b']) expect(r.records.filter((x) => x.test.startsWith(file)).map((x) => x.seen)).toEqual([0, 1, 2, 3]);
  }, 180_000);
});

// A CommonJS jest project: module.exports config, require() in tests, jest started without
// --experimental-vm-modules and without NODE_OPTIONS.
const cjsTest = (file: string) => `const { appendFileSync } = require('node:fs');
const { useTestDatabase } = require('@shipgate/test-harness/jest');
const { prepareHarness } = require('@shipgate/test-harness');

const db = useTestDatabase();

test('the core API loads with require()', () => {
  expect(typeof prepareHarness).toBe('function');
});
for (let i = 0; i < 3; i += 1) {
  test('${file}' + i + ': starts from the seed', async () => {
    const seen = (await db.client.query("SELECT count(*)::int AS n FROM customers WHERE name LIKE 'written%'")).rows[0].n;
    await db.client.query("INSERT INTO customers (name) VALUES ('written by ${file}" + i + "')");
    const id = (await db.client.query('SELECT current_database() AS d')).rows[0];
    appendFileSync(process.env.RECORD_FILE, JSON.stringify({ test: '${file}' + i, db: id.d, pid: process.pid, seen }) + '\\n');
  });
}
`;

function cjsProject(): string {
  return userProject({
    'package.json': '{ "name": "a-commonjs-app", "type": "commonjs" }\n',
    'jest.config.js': "module.exports = {\n  preset: '@shipgate/test-harness/jest',\n  testEnvironment: 'node',\n  globals: { shipgateTestHarness: { migrations: 'db/migrations', seed: 'db/seed' } },\n};\n",
    'tests/a.test.js': cjsTest('a'),
    'tests/b.test.js': cjsTest('b'),
  });
}

describe('jest in a CommonJS project (no ESM, no NODE_OPTIONS)', () => {
  const jestBin = path.join(repo, 'node_modules/jest/bin/jest.js');

  it('pglite (default): the databases run in worker threads, each test rolled back', async () => {
    const r = await run(cjsProject(), [jestBin, '--maxWorkers=2', '--ci']);
    expect(r.output).not.toContain('Must use import to load ES Module');
    expect(r.output).toMatch(/Tests:\s+8 passed, 8 total/);
    expect(r.code).toBe(0);
    expect(r.records.map((x) => x.seen)).toEqual([0, 0, 0, 0, 0, 0]);
  }, 180_000);

  const postgres = postgresAvailable() ? it : it.skip;
  postgres('postgres: a fresh clone per test', async () => {
    const r = await run(cjsProject(), [jestBin, '--maxWorkers=2', '--ci'], { SHIPGATE_TEST_PROVIDER: 'postgres' });
    expect(r.output).toMatch(/Tests:\s+8 passed, 8 total/);
    expect(r.code).toBe(0);
    expect(new Set(r.records.map((x) => x.db)).size).toBe(6);
  }, 180_000);
});

describe('node:test', () => {
  it("the README's five lines: a fresh database per test with the core API", async () => {
    const dir = userProject({ 'test/customers.test.mjs': nodeTest });
    const r = await run(dir, ['--test', 'test/customers.test.mjs']);
    expect(r.output).toMatch(/(#|ℹ) pass 2\n(#|ℹ) fail 0/);
    expect(r.code).toBe(0);
  }, 120_000);
});

describe('the README', () => {
  it('shows the same node:test lines that run here', () => {
    const readme = readFileSync(path.join(here, '../README.md'), 'utf8');
    const lines = nodeTest.split('// --- README\n')[1]!;
    expect(readme).toContain(lines);
  });
});
