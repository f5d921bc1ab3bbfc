// The regression of issue 14: a library pipeline (install, build, test) run through the real CLI,
// then `rm -rf dist node_modules`, then run again. install and build are cache hits that put the
// files back byte for byte (bin symlink, executable bit, empty folder included), so test passes;
// and the cached run leaves the durations `plan` uses for the critical path alone.
import { afterEach, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { cpSync, lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cli } from '../../../test/helpers.js';

const fixture = path.join(path.dirname(new URL(import.meta.url).pathname), '../../../test/fixtures/cached-library');
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Every file, symlink and folder under `root/sub`, with content hashes and modes. */
function snapshot(root: string, sub: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string): void => {
    const full = path.join(root, rel);
    const info = lstatSync(full);
    if (info.isSymbolicLink()) out[rel] = `link ${readlinkSync(full)}`;
    else if (info.isDirectory()) {
      out[rel] = `dir`;
      for (const name of readdirSync(full)) walk(path.join(rel, name));
    } else out[rel] = `file ${(info.mode & 0o777).toString(8)} ${createHash('sha256').update(readFileSync(full)).digest('hex')}`;
  };
  walk(sub);
  return out;
}

const outcomes = (dir: string): Record<string, string> =>
  Object.fromEntries((JSON.parse(readFileSync(path.join(dir, '.shipgate/report.json'), 'utf8')) as { invocations: { id: string; outcome: string }[] }).invocations.map((i) => [i.id, i.outcome]));

describe('shipgate run: a library pipeline survives rm -rf dist node_modules', () => {
  it('restores install and build outputs from the cache, and the test step passes', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sg-library-'));
    dirs.push(dir);
    cpSync(fixture, dir, { recursive: true });

    const first = await cli(['run'], dir);
    expect(first.code).toBe(0);
    expect(outcomes(dir)).toEqual({ install: 'success', build: 'success', test: 'success' });
    const before = { ...snapshot(dir, 'node_modules'), ...snapshot(dir, 'dist') };
    const durations = JSON.parse(readFileSync(path.join(dir, '.shipgate/durations.json'), 'utf8')) as Record<string, number>;

    rmSync(path.join(dir, 'dist'), { recursive: true });
    rmSync(path.join(dir, 'node_modules'), { recursive: true });
    const second = await cli(['run'], dir);
    expect(second.code).toBe(0);
    expect(outcomes(dir)).toEqual({ install: 'cached', build: 'cached', test: 'success' });
    expect({ ...snapshot(dir, 'node_modules'), ...snapshot(dir, 'dist') }).toEqual(before);
    expect(before['node_modules/.bin/tiny-build']).toBe('link ../tiny-build/bin.js');
    expect(before['node_modules/tiny-build/bin.js']).toMatch(/^file 755 /);
    expect(statSync(path.join(dir, 'node_modules/tiny-build/empty-cache-dir')).isDirectory()).toBe(true);

    // the cached steps (milliseconds each) kept the durations of their real run; test ran again
    const after = JSON.parse(readFileSync(path.join(dir, '.shipgate/durations.json'), 'utf8')) as Record<string, number>;
    expect(after.install).toBe(durations.install);
    expect(after.build).toBe(durations.build);
    const plan = JSON.parse((await cli(['plan', '--json'], dir)).out) as { criticalPath: { totalMs: number; estimatedFrom: string } };
    expect(plan.criticalPath).toMatchObject({ totalMs: durations.install! + durations.build! + after.test!, estimatedFrom: 'last run' });
  });

  it('an invalid shared cache URL is a usage error before anything runs (exit 2)', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sg-library-'));
    dirs.push(dir);
    cpSync(fixture, dir, { recursive: true });
    const r = await cli(['run'], dir, { SHIPGATE_CACHE_URL: 'http://cache.invalid/x' });
    expect(r.code).toBe(2);
    expect(r.err).toContain('the shared cache URL "http://cache.invalid/x" is neither file:// nor s3:// [cache.url]');
    expect(r.err).not.toMatch(/\n\s+at /);
  });
});
