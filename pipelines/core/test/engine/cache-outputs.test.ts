// The cache restores what it skips: output files come back after they were deleted, with their
// modes, symbolic links and empty folders; a hit whose stored files are missing or corrupt runs
// the step instead and says so; restored files can be changed without changing the store.
import { afterEach, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { appendFileSync, chmodSync, utimesSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parsePipeline } from '../../src/config/index.js';
import { planPipeline } from '../../src/plan/plan.js';
import { runPipeline, type RunOptions, type RunResult } from '../../src/scheduler/run-pipeline.js';
import type { RunEvent } from '../../src/scheduler/events.js';
import { defaultRegistry } from '../../../cli/src/cli/steps.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function workspace(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sg-outputs-'));
  dirs.push(dir);
  mkdirSync(path.join(dir, 'src'));
  writeFileSync(path.join(dir, 'src', 'a.txt'), 'alpha');
  return dir;
}

async function run(dir: string, yaml: string, options: Partial<RunOptions> = {}): Promise<RunResult & { logs: string[] }> {
  writeFileSync(path.join(dir, 'shipgate.yml'), yaml);
  const registry = defaultRegistry();
  const spec = parsePipeline(yaml, path.join(dir, 'shipgate.yml'), { registry });
  const events: RunEvent[] = [];
  const result = await runPipeline(planPipeline(spec), { registry, stateDir: path.join(dir, '.shipgate'), maxParallel: 2, env: { PATH: process.env.PATH }, onEvent: (e) => events.push(e), ...options });
  const logs = events.flatMap((e) => (e.type === 'step-log' ? [e.line] : e.type === 'step-end' && e.reason ? [e.reason] : []));
  return { ...result, logs };
}

// a build that writes a tree like npm's: files, an executable, a bin symlink, an empty folder
const build = [
  'name: p',
  'steps:',
  '  build:',
  '    run: |',
  '      echo ran >> build-runs',
  '      mkdir -p dist/empty node_modules/pkg node_modules/.bin',
  '      cp src/a.txt dist/out.txt',
  '      printf "#!/bin/sh\\necho tool\\n" > node_modules/pkg/cli.js && chmod 755 node_modules/pkg/cli.js',
  '      ln -sf ../pkg/cli.js node_modules/.bin/tool',
  '      echo "v=1" >> "$SHIPGATE_OUTPUT"',
  '    cache: { inputs: ["src/**"], outputs: [dist, node_modules] }',
  '  check:',
  '    needs: [build]',
  '    run: test "$(cat dist/out.txt)" = alpha && node_modules/.bin/tool > tool-said',
].join('\n');

const outcome = (r: RunResult, id: string) => r.invocations[id]?.outcome;
const runs = (dir: string) => readFileSync(path.join(dir, 'build-runs'), 'utf8').trim().split('\n').length;

describe('cache outputs: restore what was skipped', () => {
  it('brings back deleted outputs (content, modes, symlinks, empty folders) on a hit, without running the step', async () => {
    const dir = workspace();
    expect(outcome(await run(dir, build), 'build')).toBe('success');
    rmSync(path.join(dir, 'dist'), { recursive: true });
    rmSync(path.join(dir, 'node_modules'), { recursive: true });

    const second = await run(dir, build);
    expect(outcome(second, 'build')).toBe('cached');
    expect(outcome(second, 'check')).toBe('success');
    expect(runs(dir)).toBe(1);
    expect(readFileSync(path.join(dir, 'dist/out.txt'), 'utf8')).toBe('alpha');
    expect(statSync(path.join(dir, 'node_modules/pkg/cli.js')).mode & 0o777).toBe(0o755);
    expect(lstatSync(path.join(dir, 'node_modules/.bin/tool')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(path.join(dir, 'node_modules/.bin/tool'))).toBe('../pkg/cli.js');
    expect(statSync(path.join(dir, 'dist/empty')).isDirectory()).toBe(true);
    expect(readFileSync(path.join(dir, 'tool-said'), 'utf8').trim()).toBe('tool');
    expect(second.logs.join('\n')).toMatch(/output files restored \(\d+ copied back\)/);
  });

  it('restored files are copies: writing into one does not change what the next hit restores', async () => {
    const dir = workspace();
    await run(dir, build);
    rmSync(path.join(dir, 'dist'), { recursive: true });
    await run(dir, build);
    appendFileSync(path.join(dir, 'dist/out.txt'), ' changed in place');
    rmSync(path.join(dir, 'dist'), { recursive: true });
    const third = await run(dir, build);
    expect(outcome(third, 'build')).toBe('cached');
    expect(readFileSync(path.join(dir, 'dist/out.txt'), 'utf8')).toBe('alpha');
  });

  it('puts back a file changed after the step, and leaves files already right untouched', async () => {
    const dir = workspace();
    await run(dir, build);
    writeFileSync(path.join(dir, 'dist/out.txt'), 'tampered');
    const before = statSync(path.join(dir, 'node_modules/pkg/cli.js')).mtimeMs;
    const second = await run(dir, build);
    expect(outcome(second, 'build')).toBe('cached');
    expect(readFileSync(path.join(dir, 'dist/out.txt'), 'utf8')).toBe('alpha');
    expect(statSync(path.join(dir, 'node_modules/pkg/cli.js')).mtimeMs).toBe(before);
  });

  it.each([
    ['missing', (file: string) => rmSync(file)],
    ['corrupt', (file: string) => (chmodSync(file, 0o644), writeFileSync(file, 'bit rot'))],
  ])('runs the step instead when a stored file is %s, and says so', async (problem, damage) => {
    const dir = workspace();
    await run(dir, build);
    const objects = path.join(dir, '.shipgate/objects');
    for (const sub of readdirSync(objects)) for (const file of readdirSync(path.join(objects, sub))) damage(path.join(objects, sub, file));
    rmSync(path.join(dir, 'dist'), { recursive: true });
    const second = await run(dir, build);
    expect(outcome(second, 'build')).toBe('success');
    expect(runs(dir)).toBe(2);
    expect(second.logs.join('\n')).toMatch(new RegExp(`inputs unchanged since .*, but the stored copy of .* is ${problem}.*; running the step`));
    expect(readFileSync(path.join(dir, 'dist/out.txt'), 'utf8')).toBe('alpha');
    // the run stored good copies again: the next hit restores
    rmSync(path.join(dir, 'dist'), { recursive: true });
    expect(outcome(await run(dir, build), 'build')).toBe('cached');
    expect(readFileSync(path.join(dir, 'dist/out.txt'), 'utf8')).toBe('alpha');
  });

  it('stored objects are sealed (read-only, fixed mtime); SHIPGATE_CACHE_VERIFY=full also catches damage that kept the seal', async () => {
    const dir = workspace();
    await run(dir, build);
    const objects = path.join(dir, '.shipgate/objects');
    const files = readdirSync(objects).flatMap((sub) => readdirSync(path.join(objects, sub)).map((f) => path.join(objects, sub, f)));
    for (const file of files) {
      expect(statSync(file).mode & 0o777).toBe(0o444);
      const sealed = statSync(file).mtime;
      // damage below the file system: same size, the seal put back
      const size = statSync(file).size;
      chmodSync(file, 0o644);
      writeFileSync(file, 'x'.repeat(size));
      utimesSync(file, sealed, sealed);
    }
    rmSync(path.join(dir, 'dist'), { recursive: true });
    expect(outcome(await run(dir, build), 'build')).toBe('cached'); // the seal is trusted by default
    rmSync(path.join(dir, 'dist'), { recursive: true });
    const full = await run(dir, build, { env: { PATH: process.env.PATH, SHIPGATE_CACHE_VERIFY: 'full' } });
    expect(outcome(full, 'build')).toBe('success');
    expect(full.logs.join('\n')).toMatch(/is corrupt \(checksum mismatch\); running the step/);
  });

  it('gives restored files their modification times back, and takes files with the recorded size and time as already right', async () => {
    const dir = workspace();
    await run(dir, build);
    const recorded = statSync(path.join(dir, 'dist/out.txt')).mtimeMs;
    rmSync(path.join(dir, 'dist'), { recursive: true });
    await run(dir, build);
    expect(Math.abs(statSync(path.join(dir, 'dist/out.txt')).mtimeMs - recorded)).toBeLessThan(1);
  });

  it.each([
    ['a path with ..', (stored: unknown[], sha: string) => stored.push({ path: '../escaped.txt', type: 'file', mode: 0o644, size: 5, sha256: sha })],
    ['a file under a stored symlink that leads outside', (stored: unknown[], sha: string, outside: string) => stored.push({ path: 'dist/link', type: 'symlink', target: outside }, { path: 'dist/link/escaped.txt', type: 'file', mode: 0o644, size: 5, sha256: sha })],
  ])('never writes outside the working directory: %s in a stored entry runs the step instead', async (_what, tamper) => {
    const dir = workspace();
    const outside = mkdtempSync(path.join(os.tmpdir(), 'sg-outside-'));
    dirs.push(outside);
    await run(dir, build);
    const entryDir = path.join(dir, '.shipgate/cache/build');
    const file = path.join(entryDir, readdirSync(entryDir)[0]!);
    const entry = JSON.parse(readFileSync(file, 'utf8')) as { stored: { type: string; sha256?: string; size?: number }[] };
    const alpha = entry.stored.find((s) => s.type === 'file' && s.size === 5)!; // dist/out.txt holds "alpha"
    tamper(entry.stored, alpha.sha256!, outside);
    writeFileSync(file, JSON.stringify(entry));
    rmSync(path.join(dir, 'dist'), { recursive: true });
    const second = await run(dir, build);
    expect(outcome(second, 'build')).toBe('success');
    expect(second.logs.join('\n')).toMatch(/outside the working directory.*running the step/);
    expect(existsSync(path.join(dir, '..', 'escaped.txt'))).toBe(false);
    expect(readdirSync(outside)).toEqual([]);
  });

  it('keys on files under node_modules when a glob names them, and warns about globs that match nothing', async () => {
    const dir = workspace();
    mkdirSync(path.join(dir, 'node_modules'));
    writeFileSync(path.join(dir, 'node_modules/.package-lock.json'), '{"v":1}');
    const yaml = [
      'name: p',
      'steps:',
      '  install:',
      '    run: echo ran >> build-runs',
      '    cache: { inputs: ["node_modules/.package-lock.json", "package-lock.json", "src/**"], outputs: [out-dir] }',
    ].join('\n');
    const first = await run(dir, yaml);
    expect(first.logs).toContain('cache: inputs glob "package-lock.json" matched no file');
    expect(first.logs).toContain('cache: outputs glob "out-dir" matched nothing');
    expect(outcome(await run(dir, yaml), 'install')).toBe('cached');
    writeFileSync(path.join(dir, 'node_modules/.package-lock.json'), '{"v":2}');
    expect(outcome(await run(dir, yaml), 'install')).toBe('success');
  });

  it('keeps .shipgate/ out of git status', async () => {
    const dir = workspace();
    execFileSync('git', ['init', '-q'], { cwd: dir });
    await run(dir, build);
    expect(readFileSync(path.join(dir, '.shipgate/.gitignore'), 'utf8')).toMatch(/^\*$/m);
    const status = execFileSync('git', ['status', '--porcelain', '--untracked-files=all'], { cwd: dir, encoding: 'utf8' });
    expect(status).not.toContain('.shipgate');
    expect(status).toContain('dist/out.txt'); // the check sees untracked files at all
  });

  it('--no-cache runs the step and still leaves the outputs in place', async () => {
    const dir = workspace();
    await run(dir, build);
    const forced = await run(dir, build, { noCache: true });
    expect(outcome(forced, 'build')).toBe('success');
    expect(existsSync(path.join(dir, 'dist/out.txt'))).toBe(true);
  });
});

describe('object store pruning', () => {
  it('removes objects no kept entry names, and keeps recent ones a parallel run may be about to name', async () => {
    const { ObjectStore, sha256File } = await import('../../src/cache/objects.js');
    const dir = workspace();
    const store = new ObjectStore(path.join(dir, 'objects'));
    const add = async (name: string, text: string): Promise<string> => {
      writeFileSync(path.join(dir, name), text);
      const sha = await sha256File(path.join(dir, name));
      await store.addFile(path.join(dir, name), sha, text.length);
      return sha;
    };
    const kept = await add('a', 'kept');
    const dropped = await add('b', 'dropped');
    expect(await store.prune(new Set([kept]))).toBe(0); // both younger than the grace period
    expect(await store.prune(new Set([kept]), 0)).toBe(1);
    expect(existsSync(store.pathOf(kept))).toBe(true);
    expect(existsSync(store.pathOf(dropped))).toBe(false);
  });
});

describe('filling the object store from restored files', () => {
  it.each([
    ['a small file (read into memory)', 'as restored'],
    ['a large file (copied)', 'as restored '.repeat(10_000)],
  ])('keeps a copy of %s only when it still hashes to its name (a later step may have changed it)', async (_, text) => {
    const { ObjectStore, sha256File } = await import('../../src/cache/objects.js');
    const dir = workspace();
    const store = new ObjectStore(path.join(dir, 'objects'));
    const file = path.join(dir, 'restored');
    writeFileSync(file, text);
    const sha = await sha256File(file);
    writeFileSync(file, `${text.slice(1)}!`); // same size, other content
    expect(await store.addVerifiedCopy(file, sha, text.length)).toBe(false);
    expect(existsSync(store.pathOf(sha))).toBe(false);
    expect(readdirSync(path.dirname(store.pathOf(sha)))).toEqual([]); // no temporary file left either

    writeFileSync(file, text);
    expect(await store.addVerifiedCopy(file, sha, text.length)).toBe(true);
    expect(readFileSync(store.pathOf(sha), 'utf8')).toBe(text);
    expect(statSync(store.pathOf(sha)).mode & 0o777).toBe(0o444); // sealed: read-only, fixed stamp
    expect(Math.floor(statSync(store.pathOf(sha)).mtimeMs / 1000)).toBe(1_000_000_000);
  });
});
