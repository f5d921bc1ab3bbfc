// A hit from the shared cache writes its files into the workspace and fills the local object
// store afterwards, writing the local entry last. Killing the real CLI (SIGKILL, no clean-up at
// all) during that fill must leave a local store that the next run never trusts on its own: without
// the shared store the step runs; with it, the hit comes from the shared store again; either way
// the files are right, and a completed fill later gives a correct purely local hit.
import { afterEach, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { cli } from '../../../test/helpers.js';

const dirs: string[] = [];
const tmp = (prefix: string): string => {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const bin = path.resolve(import.meta.dirname, '../../dist/cli/main.js');
const files = 3000;

// enough distinct files that the fill takes a while: 3,000 × 4 KiB
const generator = `
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
appendFileSync('build-runs', 'ran\\n');
for (let p = 0; p < 30; p += 1) {
  mkdirSync(\`out/p\${p}\`, { recursive: true });
  for (let f = 0; f < ${files / 30}; f += 1) writeFileSync(\`out/p\${p}/f\${f}.txt\`, \`\${p}/\${f}\\n\`.repeat(512));
}
`;
const yaml = ['name: fill', 'steps:', '  build:', '    run: node gen.mjs', '    cache: { inputs: [gen.mjs], outputs: [out] }'].join('\n');

function clone(): string {
  const dir = tmp('sg-fill-');
  writeFileSync(path.join(dir, 'gen.mjs'), generator);
  writeFileSync(path.join(dir, 'shipgate.yml'), yaml);
  return dir;
}

/** sha256 of every file under out/, by path. */
function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of readdirSync(path.join(dir, 'out'))) {
    for (const f of readdirSync(path.join(dir, 'out', p))) out[`${p}/${f}`] = createHash('sha256').update(readFileSync(path.join(dir, 'out', p, f))).digest('hex');
  }
  return out;
}

const buildOutcome = (dir: string): string | undefined =>
  (JSON.parse(readFileSync(path.join(dir, '.shipgate/report.json'), 'utf8')) as { invocations: { id: string; outcome: string }[] }).invocations.find((i) => i.id === 'build')?.outcome;

const objectCount = (dir: string): number => {
  const root = path.join(dir, '.shipgate/objects');
  if (!existsSync(root)) return 0;
  return readdirSync(root).reduce((n, sub) => n + readdirSync(path.join(root, sub)).filter((f) => /^[0-9a-f]{64}$/.test(f)).length, 0);
};

/**
 * Runs the built CLI in a fresh clone with the shared store and kills it with SIGKILL as soon as
 * the local fill has stored a few objects (it begins after the restore). Returns the clone when
 * the kill landed before the fill wrote the local entry; undefined when the fill had already
 * finished (the caller tries again).
 */
async function killDuringFill(env: Record<string, string>): Promise<string | undefined> {
  const dir = clone();
  const child = spawn(process.execPath, [bin, 'run', '--reporter', 'plain'], { cwd: dir, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, stdio: 'ignore' });
  const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
  let exited = false;
  void closed.then(() => (exited = true));
  // bounded: 20,000 polls at most (a millisecond apart, plus the count)
  for (let i = 0; i < 20_000 && !exited && objectCount(dir) < 20; i += 1) await sleep(1);
  child.kill('SIGKILL');
  await closed;
  if (existsSync(path.join(dir, '.shipgate/cache/build'))) return undefined;
  return dir;
}

describe('shared cache: a run killed while it fills the local store', () => {
  it('leaves a store whose next run is still correct, with and without the shared store', async () => {
    const store = tmp('sg-fill-store-');
    const env = { SHIPGATE_CACHE_URL: pathToFileURL(store).href };
    const origin = clone();
    expect((await cli(['run'], origin, env)).code).toBe(0);
    const expected = tree(origin);
    expect(Object.keys(expected)).toHaveLength(files);

    const killed: string[] = [];
    for (let attempt = 0; attempt < 6 && killed.length < 2; attempt += 1) {
      const dir = await killDuringFill(env);
      if (dir) killed.push(dir);
    }
    expect(killed).toHaveLength(2);
    const [alone, withShared] = killed as [string, string];
    for (const dir of killed) {
      expect(existsSync(path.join(dir, 'build-runs'))).toBe(false); // the hit restored, the step never ran
      // half-filled: some objects stored, no entry names them
      expect(objectCount(dir)).toBeGreaterThanOrEqual(20);
      expect(objectCount(dir)).toBeLessThan(files);
    }

    // without the shared store, the half-filled local store is not a hit: the step runs
    const local = await cli(['run'], alone);
    expect(local.code).toBe(0);
    expect(buildOutcome(alone)).toBe('success');
    expect(readFileSync(path.join(alone, 'build-runs'), 'utf8')).toBe('ran\n');
    expect(tree(alone)).toEqual(expected);

    // with it, the hit comes from the shared store again, and this time the fill completes
    const again = await cli(['run'], withShared, env);
    expect(again.code).toBe(0);
    expect(buildOutcome(withShared)).toBe('cached');
    expect(again.out).toContain('(shared cache)');
    expect(tree(withShared)).toEqual(expected);
    expect(objectCount(withShared)).toBe(files);

    // so a purely local hit (every object checked in full) restores the same files
    rmSync(path.join(withShared, 'out'), { recursive: true });
    const purelyLocal = await cli(['run'], withShared, { SHIPGATE_CACHE_VERIFY: 'full' });
    expect(purelyLocal.code).toBe(0);
    expect(buildOutcome(withShared)).toBe('cached');
    expect(purelyLocal.out).not.toContain('shared cache');
    expect(tree(withShared)).toEqual(expected);
    expect(existsSync(path.join(withShared, 'build-runs'))).toBe(false);
  }, 120_000);
});
