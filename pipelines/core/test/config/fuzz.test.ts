// Issue 14 §4: a fuzz test in the test command. Mutations of real pipelines (the example service,
// the README examples, the derived fixtures of real CI workflows) from a fixed seed, each through
// the validate code path: a problem report or a valid pipeline, never an exception of another
// kind, a stack trace, a flood or a slow case. A few go through the built binary as users run it.
// A failure prints the case number; the same seed reproduces it.
import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defaultRegistry, loadPlugins } from '@shipgate/cli';
import { ShipgateError } from '@shipgate/protocol';
import { parsePipeline } from '../../src/config/index.js';
import { planPipeline } from '../../src/plan/plan.js';

// the steps of the plugins a test loaded (db-test), for defaultRegistry
let plugins: Awaited<ReturnType<typeof loadPlugins>> = [];

const repo = path.resolve(import.meta.dirname, '../../../..');
const seed = 0x5eed14;
const cases = 300;
const binaryCases = 6;

/** mulberry32: a small, fast PRNG whose sequence depends only on the seed. */
function prng(start: number): () => number {
  let a = start >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function corpus(): string[] {
  const readmeBlocks = (file: string) =>
    [...readFileSync(path.join(repo, file), 'utf8').matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!).filter((y) => /^steps:/m.test(y));
  const derived = path.join(import.meta.dirname, 'fixtures/derived');
  return [
    readFileSync(path.join(repo, 'examples/orders-service/shipgate.yml'), 'utf8'),
    ...readmeBlocks('README.md').map((y) => (/^name:/m.test(y) ? y : `name: readme\n${y}`)),
    ...readmeBlocks('pipelines/README.md').filter((y) => /^name:/m.test(y)),
    ...readdirSync(derived).map((f) => readFileSync(path.join(derived, f), 'utf8')),
  ];
}

/** Values a careless edit, a bad merge or a hostile pull request puts where a value was. */
const hostile = [
  '[]', '{}', '*a', '&a x', '~', '-1', '1e309', '0x7fffffffffffffff', '"${{ }}"', '"${{ steps[\'b\'].outputs.v }}"', '"${{ constructor() }}"',
  '"${{ steps.build.outputs.versoin }}"', '"${{ matrix.nope }}"', '1194h', '597h', '"\\0\\e[2J\\x07"', '[a, a]', '__proto__', '!!binary AAAA',
  '!!set { a }', '? x', `"${'('.repeat(200)}"`, `"${'x'.repeat(5000)}"`, '{ a: *a }', '[*a, *a, *a]', '"${{ !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!! true }}"', 'true', '0',
];

type Mutation = (lines: string[], random: () => number) => string[];
const pick = <T>(list: readonly T[], random: () => number): T => list[Math.floor(random() * list.length)]!;
const at = (lines: string[], random: () => number) => Math.floor(random() * lines.length);

const mutations: Record<string, Mutation> = {
  'delete a line': (l, r) => l.filter((_, i) => i !== at(l, r)),
  'duplicate a line': (l, r) => {
    const i = at(l, r);
    return [...l.slice(0, i + 1), l[i]!, ...l.slice(i + 1)];
  },
  'swap two lines': (l, r) => {
    const copy = [...l];
    const [i, j] = [at(l, r), at(l, r)];
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
    return copy;
  },
  'indent a line': (l, r) => {
    const i = at(l, r);
    return l.map((line, k) => (k === i ? (r() < 0.5 ? `  ${line}` : line.replace(/^ {1,2}/, '')) : line));
  },
  'replace a value': (l, r) => {
    const candidates = l.map((line, i) => [line, i] as const).filter(([line]) => /:\s+\S/.test(line));
    if (candidates.length === 0) return l;
    const [line, i] = pick(candidates, r);
    return l.map((x, k) => (k === i ? line.replace(/(:\s+).*$/, `$1${pick(hostile, r)}`) : x));
  },
  'insert bytes': (l, r) => {
    const i = at(l, r);
    const bytes = Array.from({ length: 1 + Math.floor(r() * 6) }, () => String.fromCharCode(Math.floor(r() * 256))).join('');
    return l.map((line, k) => (k === i ? line.slice(0, Math.floor(r() * line.length)) + bytes + line.slice(Math.floor(r() * line.length)) : line));
  },
  'truncate': (l, r) => l.slice(0, at(l, r)),
  'repeat a line': (l, r) => {
    const i = at(l, r);
    return [...l.slice(0, i), ...Array(1 + Math.floor(r() * 200)).fill(l[i]), ...l.slice(i + 1)];
  },
  'misspell a key': (l, r) => {
    const i = at(l, r);
    return l.map((line, k) => (k === i ? line.replace(/^(\s*)(\w)(\w)/, '$1$3$2') : line));
  },
  'add a need': (l, r) => {
    const ids = l.map((line) => /^ {2}([\w-]+):/.exec(line)?.[1]).filter((id): id is string => id !== undefined);
    const i = l.findIndex((line) => /^ {2}[\w-]+:\s*$/.test(line));
    if (i === -1 || ids.length === 0) return l;
    return [...l.slice(0, i + 1), `    needs: [${pick(ids, r)}, ${pick(ids, r)}x]`, ...l.slice(i + 1)];
  },
  'add an anchor and aliases': (l, r) => {
    const i = l.findIndex((line) => /^env:/.test(line));
    return i === -1 ? [...l, 'x-anchor: &a { K: v }'] : [...l.slice(0, i), 'env: &a', ...l.slice(i + 1), ...Array(Math.floor(r() * 3)).fill('  Y: *a')];
  },
};

function mutate(text: string, random: () => number): { text: string; applied: string[] } {
  let lines = text.split('\n');
  const applied: string[] = [];
  const count = 1 + Math.floor(random() * 3);
  for (let k = 0; k < count; k += 1) {
    const name = pick(Object.keys(mutations), random);
    applied.push(name);
    lines = mutations[name]!(lines, random);
  }
  return { text: lines.join('\n'), applied };
}

function generate(): Array<{ n: number; text: string; applied: string[] }> {
  const random = prng(seed);
  const seeds = corpus();
  return Array.from({ length: cases }, (_, n) => ({ n, ...mutate(pick(seeds, random), random) }));
}

const problemLine = /^\S+:\d+:\d+: \S.* \[[a-z][a-z-]*(\.[a-z][a-z-]*)+\]$/;
const hintLine = /^ {2}hint: \S/;

describe(`fuzz: ${cases} mutations of real pipelines (seed ${seed.toString(16)})`, () => {
  const generated = generate();

  it('the corpus holds the example service, README examples and derived real workflows', () => {
    expect(corpus().length).toBeGreaterThanOrEqual(6);
  });

  it('every case is a valid pipeline or a bounded report of file:line:col problems, in under a second of CPU', async () => {
    plugins = await loadPlugins({}, repo);
    const registry = defaultRegistry(plugins);
    const outcomes = { valid: 0, rejected: 0 };
    const codes = new Set<string>();
    for (const { n, text, applied } of generated) {
      const started = process.cpuUsage();
      let error: unknown;
      try {
        planPipeline(parsePipeline(text, 'shipgate.yml', { registry }));
        outcomes.valid += 1;
      } catch (e) {
        error = e;
      }
      const used = process.cpuUsage(started);
      const where = `case ${n} (${applied.join(', ')})`;
      if (error !== undefined) {
        if (!(error instanceof ShipgateError)) throw new Error(`${where}: ${String((error as Error).stack ?? error)}`);
        outcomes.rejected += 1;
        expect({ where, exitCode: error.exitCode }).toEqual({ where, exitCode: 2 });
        const report = error.format();
        expect({ where, size: report.length < 20_000 }).toEqual({ where, size: true });
        for (const line of report.split('\n')) expect({ where, line, ok: problemLine.test(line) || hintLine.test(line) }).toEqual({ where, line, ok: true });
        for (const p of [error, ...error.related]) codes.add(p.code);
      }
      expect({ where, fast: (used.user + used.system) / 1000 < 1000 }).toEqual({ where, fast: true });
    }
    // the mutations reach far: both outcomes, and many kinds of problem
    expect(outcomes.valid).toBeGreaterThan(10);
    expect(outcomes.rejected).toBeGreaterThan(100);
    expect(codes.size).toBeGreaterThanOrEqual(8);
  });

  it(`${binaryCases} cases through the built binary: exit 0 or 2, no stack trace, well-formed lines`, () => {
    const bin = path.resolve(import.meta.dirname, '../../../cli/dist/cli/main.js');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sg-fuzz-'));
    try {
      for (const { n, text, applied } of generated.filter((_, i) => i % Math.floor(cases / binaryCases) === 0).slice(0, binaryCases)) {
        writeFileSync(path.join(dir, 'shipgate.yml'), text);
        const result = spawnSync(process.execPath, [bin, 'validate'], { cwd: dir, encoding: 'utf8', timeout: 20_000, killSignal: 'SIGKILL' });
        const where = `case ${n} (${applied.join(', ')})`;
        expect({ where, status: [0, 2].includes(result.status ?? -1) }).toEqual({ where, status: true });
        expect(result.stderr).not.toMatch(/internal error|\n\s+at \S+ \(/);
        if (result.status === 2) for (const line of result.stderr.trimEnd().split('\n')) expect({ where, line, ok: problemLine.test(line) || hintLine.test(line) || line.startsWith('shipgate: ') }).toEqual({ where, line, ok: true });
        expect(result.stdout.length + result.stderr.length).toBeLessThan(20_000);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
