// The outputs of each step's latest success (what `--only` restores) are written in the background
// while the run goes on, not all at the end of the run, and the run returns only once they are on
// disk.
import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parsePipeline } from '../../src/config/index.js';
import { lastSuccessfulOutputs } from '../../src/cache/keys.js';
import { planPipeline } from '../../src/plan/plan.js';
import { runPipeline } from '../../src/scheduler/run-pipeline.js';
import { defaultRegistry } from '../../../cli/src/cli/steps.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function run(yaml: string) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sg-record-'));
  dirs.push(dir);
  writeFileSync(path.join(dir, 'shipgate.yml'), yaml);
  const registry = defaultRegistry();
  const plan = planPipeline(parsePipeline(yaml, path.join(dir, 'shipgate.yml'), { registry }));
  const stateDir = path.join(dir, '.shipgate');
  const result = await runPipeline(plan, { registry, stateDir, maxParallel: 4, gracePeriodMs: 300, noCache: true });
  return { result, stateDir, dir };
}

describe('recorded outputs', () => {
  it('are on disk while the steps after it still run', async () => {
    // b succeeds only if a's record appears while b runs (bounded: 5 s)
    const wait = 'for i in $(seq 1 100); do [ -f .shipgate/outputs/a.json ] && { cat .shipgate/outputs/a.json > seen.json; exit 0; }; sleep 0.05; done; exit 1';
    const { result, dir } = await run(`name: p\nsteps:\n  a: { run: 'echo v=1 >> "$SHIPGATE_OUTPUT"' }\n  b: { run: '${wait}', needs: [a] }\n`);
    expect(Object.fromEntries(Object.values(result.invocations).map((i) => [i.id, i.outcome]))).toEqual({ a: 'success', b: 'success' });
    expect(JSON.parse(readFileSync(path.join(dir, 'seen.json'), 'utf8'))).toMatchObject({ outputs: { v: '1' } });
  });

  it('are all written when the run returns, also in a failed run; a failed step leaves none', async () => {
    const { result, stateDir } = await run(
      `name: p\nsteps:\n  a: { run: 'echo v=a >> "$SHIPGATE_OUTPUT"' }\n  b: { run: 'echo v=b >> "$SHIPGATE_OUTPUT"' }\n  c: { run: 'echo v=c >> "$SHIPGATE_OUTPUT"; exit 3', needs: [a, b] }\n`,
    );
    expect(result.outcome).toBe('failure');
    expect(await lastSuccessfulOutputs(stateDir, 'a')).toEqual({ v: 'a' });
    expect(await lastSuccessfulOutputs(stateDir, 'b')).toEqual({ v: 'b' });
    expect(await lastSuccessfulOutputs(stateDir, 'c')).toBeUndefined();
  });
});
