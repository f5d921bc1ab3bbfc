// The quick-start example end to end, as a newcomer runs it: the whole pipeline (unit and
// integration tests on fresh databases, db check against the committed snapshot, the built API
// against a migrated, seeded database), and its integration suite on a real Postgres server.
import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { postgresAvailable } from '../../test-harness/test/helpers.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const example = path.join(root, 'examples/orders-service');

function run(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, args, { cwd: example, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '', ...env }, timeout: 300_000 });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

describe('examples/orders-service', () => {
  it('shipgate run: every step succeeds, the API runs against a fresh migrated database', () => {
    const r = run([path.join(root, 'pipelines/cli/dist/cli/main.js'), 'run', '--no-cache']);
    expect(r.out).toContain('[db-check] schema matches db/schema.snapshot');
    expect(r.out).toMatch(/\[db-smoke\] smoke: ok \(http:\/\/127\.0\.0\.1:\d+, postgres store\)/);
    expect(r.out).toMatch(/\[smoke\] smoke: ok \(http:\/\/127\.0\.0\.1:\d+, in-memory store\)/);
    expect(r.code).toBe(0);
    const report = JSON.parse(readFileSync(path.join(example, '.shipgate/report.json'), 'utf8'));
    expect(report.outcome).toBe('success');
    expect(report.invocations.map((i: { id: string }) => i.id)).toEqual(expect.arrayContaining(['integration', 'db-check', 'db-smoke', 'unit']));
  }, 300_000);

  it('the integration suite passes on a real Postgres server too (SHIPGATE_TEST_PROVIDER=postgres)', () => {
    if (!postgresAvailable()) return;
    const jest = path.join(root, 'node_modules/jest/bin/jest.js');
    const r = run(['--experimental-vm-modules', '--no-warnings', jest, '-c', 'jest.integration.config.js', '--json', '--outputFile=.shipgate/integration-postgres.json'], { SHIPGATE_TEST_PROVIDER: 'postgres', ORDERS_TEST_REPEAT: '50' });
    expect(r.code).toBe(0);
    const results = JSON.parse(readFileSync(path.join(example, '.shipgate/integration-postgres.json'), 'utf8'));
    expect(results.numFailedTests).toBe(0);
    expect(results.numPassedTests).toBe(58);
  }, 300_000);
});
