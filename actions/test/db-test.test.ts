// actions/db-test from its bundle: PGlite (WASM and data files beside the bundle, no node_modules)
// migrated and seeded, served on loopback, and a real client (psql) runs against $DATABASE_URL.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { bundledJob, removeJob, runBundledAction, type BundledJob } from './runner.js';

let job: BundledJob;

function hasPsql(): boolean {
  try {
    execFileSync('psql', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

beforeAll(() => {
  job = bundledJob();
  const svc = path.join(job.workspace, 'services', 'orders');
  mkdirSync(path.join(svc, 'db', 'migrations'), { recursive: true });
  writeFileSync(path.join(svc, 'db', 'migrations', 'V1__orders.sql'), 'CREATE TABLE orders (id serial PRIMARY KEY, customer text NOT NULL, total_cents integer NOT NULL CHECK (total_cents >= 0));\n');
  writeFileSync(path.join(svc, 'db', 'migrations', 'V2__status.sql'), "ALTER TABLE orders ADD COLUMN status text NOT NULL DEFAULT 'open';\n");
  writeFileSync(path.join(svc, 'db', 'seed.sql'), "INSERT INTO orders (customer, total_cents, status) VALUES ('ada', 1250, 'paid'), ('grace', 990, 'open'), ('linus', 4000, 'paid');\n");
});
afterAll(() => {
  removeJob(job);
});

describe('actions/db-test', () => {
  const psql = hasPsql();
  if (!psql && process.env.CI !== 'true') {
    it('needs psql as the client (skipped outside CI: psql is not installed)', () => undefined);
    return;
  }

  it('runs the command against a fresh migrated, seeded PGlite database and outputs its name', async () => {
    const run = await runBundledAction('db-test', {
      ...job,
      inputs: {
        command: `psql "$DATABASE_URL" -tA -c "SELECT status || '=' || count(*) FROM orders GROUP BY status ORDER BY status" > counts.txt`,
        migrations: 'db/migrations',
        seed: 'db/seed.sql',
        'working-directory': 'services/orders',
      },
      timeoutMs: 90_000,
    });
    expect(run.errors).toEqual([]);
    expect(run.code).toBe(0);
    expect(readFileSync(path.join(job.workspace, 'services', 'orders', 'counts.txt'), 'utf8')).toBe('open=1\npaid=2\n');
    expect(run.outputs.database).toMatch(/\S/);
    expect(run.summary).toContain('## ✅ shipgate db-test: success');
    // the database URL the step marked secret is masked with the runner
    expect(run.masks.some((m) => m.startsWith('postgres'))).toBe(true);
  }, 120_000);

  it('names a bad provider with its allowed values, before starting anything', async () => {
    const bad = await runBundledAction('db-test', { ...job, inputs: { command: 'true', provider: 'sqlite' } });
    expect(bad.code).toBe(1);
    expect(bad.errors[0]?.title).toBe('shipgate db-test: step.inputs');
    expect(bad.errors[0]?.message).toMatch(/provider: .*pglite.*postgres.*testcontainers.*url/);
  });
});
