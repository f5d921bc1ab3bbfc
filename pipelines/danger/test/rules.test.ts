// The Danger rules against stand-in `danger` objects built from real pull requests: a git
// repository with a base commit and a PR commit, the changed files and line counts taken from
// `git diff` the way Danger reads them, and the PR's head checked out on disk.
import { afterEach, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { largePr, lockfileInStep, migrationsNeedInitData, qualityGateComment, shipgateRules, testsWithSource, validPipeline, type DangerLike, type DangerReporter } from '../src/index.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com' } });

function write(dir: string, files: Record<string, string | null>): void {
  for (const [name, text] of Object.entries(files)) {
    const file = path.join(dir, name);
    if (text === null) rmSync(file, { force: true });
    else {
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, text);
    }
  }
}

/** A repository with `base` committed on main and `change` committed on a PR branch (checked out). */
function pullRequest(base: Record<string, string>, change: Record<string, string | null>): { dir: string; danger: DangerLike } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sg-danger-'));
  dirs.push(dir);
  git(dir, 'init', '-q', '-b', 'main');
  write(dir, base);
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'base');
  git(dir, 'checkout', '-q', '-b', 'pr');
  write(dir, change);
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'change');
  const status = git(dir, 'diff', '--name-status', '--no-renames', 'main...pr').trim().split('\n').filter(Boolean).map((l) => l.split('\t') as [string, string]);
  const numstat = git(dir, 'diff', '--numstat', 'main...pr').trim().split('\n').filter(Boolean);
  const lines = numstat.reduce((sum, l) => sum + l.split('\t').slice(0, 2).reduce((s, n) => s + (Number(n) || 0), 0), 0);
  return {
    dir,
    danger: {
      git: {
        modified_files: status.filter(([s]) => s === 'M').map(([, f]) => f),
        created_files: status.filter(([s]) => s === 'A').map(([, f]) => f),
        deleted_files: status.filter(([s]) => s === 'D').map(([, f]) => f),
        linesOfCode: async () => lines,
      },
    },
  };
}

function reporter() {
  const calls: Array<{ kind: string; text: string; file?: string; line?: number }> = [];
  const r: DangerReporter = {
    fail: (text, file, line) => calls.push({ kind: 'fail', text, ...(file ? { file } : {}), ...(line ? { line } : {}) }),
    warn: (text, file, line) => calls.push({ kind: 'warn', text, ...(file ? { file } : {}), ...(line ? { line } : {}) }),
    message: (text) => calls.push({ kind: 'message', text }),
    markdown: (text) => calls.push({ kind: 'markdown', text }),
  };
  return { r, calls };
}

const service = {
  'db/migrations/V1__init.sql': 'CREATE TABLE customers (id int PRIMARY KEY, name text);\n',
  'db/seed/001_customers.sql': "INSERT INTO customers VALUES (1, 'ada');\n",
  'db/schema.snapshot': 'table public.customers column id integer not null\n',
  'src/orders.ts': 'export const total = (a: number) => a;\n',
  'test/orders.test.ts': "import { total } from '../src/orders';\n",
  'package.json': JSON.stringify({ name: 'svc', version: '1.0.0', dependencies: { pg: '^8.0.0' } }, null, 2),
  'package-lock.json': JSON.stringify({ name: 'svc', lockfileVersion: 3, packages: { '': { name: 'svc', version: '1.0.0', dependencies: { pg: '^8.0.0' } } } }, null, 2),
  'shipgate.yml': 'name: svc\nsteps:\n  unit: { run: npm test }\n',
};

describe('migrations need init data', () => {
  it('fails a PR that adds a migration without touching the seed or the snapshot', () => {
    const { danger } = pullRequest(service, { 'db/migrations/V2__email.sql': 'ALTER TABLE customers ADD COLUMN email text NOT NULL;\n' });
    const { r, calls } = reporter();
    expect(migrationsNeedInitData(danger, r)).toBe(false);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ kind: 'fail', text: expect.stringContaining('db/migrations/V2__email.sql') });
    expect(calls[0]!.text).toContain('shipgate db check');
  });

  it('passes when the seed (or the snapshot) changes with it, and when no migration changed', () => {
    const withSeed = pullRequest(service, {
      'db/migrations/V2__email.sql': 'ALTER TABLE customers ADD COLUMN email text;\n',
      'db/seed/001_customers.sql': "INSERT INTO customers VALUES (1, 'ada', 'ada@example.com');\n",
    });
    const withSnapshot = pullRequest(service, { 'db/migrations/V2__idx.sql': 'CREATE INDEX c_name ON customers (name);\n', 'db/schema.snapshot': 'index c_name\n' });
    const unrelated = pullRequest(service, { 'src/orders.ts': 'export const total = (a: number) => a * 2;\n', 'test/orders.test.ts': '// more\n' });
    for (const pr of [withSeed, withSnapshot, unrelated]) {
      const { r, calls } = reporter();
      expect(migrationsNeedInitData(pr.danger, r)).toBe(true);
      expect(calls).toEqual([]);
    }
  });

  it('knows custom folders', () => {
    const { danger } = pullRequest({ 'sql/changes/001.sql': 'x', 'sql/init/data.sql': 'y' }, { 'sql/changes/002.sql': 'z' });
    const { r, calls } = reporter();
    expect(migrationsNeedInitData(danger, r, { migrations: ['sql/changes'], initData: ['sql/init'] })).toBe(false);
    expect(calls[0]!.kind).toBe('fail');
  });
});

describe('warnings', () => {
  it('source without tests warns; with a test it does not', () => {
    const bare = pullRequest(service, { 'src/orders.ts': 'export const total = (a: number) => a * 3;\n' });
    const a = reporter();
    expect(testsWithSource(bare.danger, a.r)).toBe(false);
    expect(a.calls).toEqual([{ kind: 'warn', text: expect.stringContaining('Source changed (1 file) but no test did') }]);
    const tested = pullRequest(service, { 'src/orders.ts': 'export const total = (a: number) => a * 3;\n', 'test/orders.test.ts': '// updated\n' });
    const b = reporter();
    expect(testsWithSource(tested.danger, b.r)).toBe(true);
    expect(b.calls).toEqual([]);
  });

  it('a large PR warns with its size', async () => {
    const big = pullRequest(service, { 'src/big.ts': Array.from({ length: 700 }, (_, i) => `export const v${i} = ${i};`).join('\n') });
    const { r, calls } = reporter();
    expect(await largePr(big.danger, r)).toBe(false);
    expect(calls).toEqual([{ kind: 'warn', text: expect.stringMatching(/^This PR changes 700 lines \(more than 600\)/) }]);
    const small = reporter();
    expect(await largePr(big.danger, small.r, { largePrLines: 1000 })).toBe(true);
  });
});

describe('lockfile in step with package.json', () => {
  it('fails when a dependency was added to package.json but not to the lockfile', () => {
    const pkg = JSON.parse(service['package.json']);
    pkg.dependencies.zod = '^4.0.0';
    const { dir, danger } = pullRequest(service, { 'package.json': JSON.stringify(pkg, null, 2) });
    const { r, calls } = reporter();
    expect(lockfileInStep(danger, r, { cwd: dir })).toBe(false);
    expect(calls).toEqual([{ kind: 'fail', file: 'package.json', text: expect.stringContaining('package.json dependencies and package-lock.json disagree: zod (package.json: ^4.0.0, lockfile: absent)') }]);
  });

  it('passes when both changed together, and for workspaces finds the root lockfile entry', () => {
    const pkg = JSON.parse(service['package.json']);
    pkg.dependencies.zod = '^4.0.0';
    const lock = JSON.parse(service['package-lock.json']);
    lock.packages[''].dependencies.zod = '^4.0.0';
    lock.packages['packages/api'] = { name: 'api', dependencies: { yaml: '^2.0.0' } };
    const { dir, danger } = pullRequest(service, {
      'package.json': JSON.stringify(pkg, null, 2),
      'package-lock.json': JSON.stringify(lock, null, 2),
      'packages/api/package.json': JSON.stringify({ name: 'api', dependencies: { yaml: '^2.0.0' } }),
    });
    const { r, calls } = reporter();
    expect(lockfileInStep(danger, r, { cwd: dir })).toBe(true);
    expect(calls).toEqual([]);
  });
});

describe('shipgate.yml', () => {
  it('an invalid pipeline fails with file:line:col and the hint', () => {
    const { dir, danger } = pullRequest(service, { 'shipgate.yml': 'name: svc\nsteps:\n  unit: { run: npm test, neds: [build] }\n' });
    const { r, calls } = reporter();
    expect(validPipeline(danger, r, { cwd: dir })).toBe(false);
    expect(calls[0]).toMatchObject({ kind: 'fail', file: 'shipgate.yml', line: 3, text: expect.stringMatching(/^shipgate\.yml:3:\d+: unknown key "neds" in steps\.unit .*\[config\.unknown-key\]/) });
  });

  it('a valid one passes', () => {
    const { dir, danger } = pullRequest(service, { 'shipgate.yml': 'name: svc\nsteps:\n  build: { run: npm run build }\n  unit: { run: npm test, needs: [build] }\n' });
    const { r, calls } = reporter();
    expect(validPipeline(danger, r, { cwd: dir })).toBe(true);
    expect(calls).toEqual([]);
  });
});

describe('quality-gate comment and the one-line entry point', () => {
  it('posts the summaries of the run report, the gate first; nothing without a report', () => {
    const { dir } = pullRequest(service, {
      '.shipgate/report.json': JSON.stringify({
        pipeline: 'svc',
        outcome: 'failure',
        invocations: [
          { id: 'unit', stepId: 'unit', summaries: ['42 tests passed'] },
          { id: 'quality-gate', stepId: 'quality-gate', summaries: ['| condition | actual | threshold | status |\n| --- | --- | --- | --- |\n| coverage | 71% | 80% | ✗ |'] },
        ],
      }),
    });
    const { r, calls } = reporter();
    expect(qualityGateComment(r, { cwd: dir })).toBe(true);
    expect(calls).toHaveLength(1);
    const md = calls[0]!.text;
    expect(md.indexOf('#### quality-gate')).toBeLessThan(md.indexOf('#### unit'));
    expect(md).toContain('| coverage | 71% | 80% | ✗ |');
    const none = reporter();
    expect(qualityGateComment(none.r, { cwd: os.tmpdir(), report: 'no-such-report.json' })).toBe(false);
  });

  it('finds the gate table by its heading when the step has another name', () => {
    const { dir } = pullRequest(service, {
      '.shipgate/report.json': JSON.stringify({
        pipeline: 'svc',
        outcome: 'success',
        invocations: [
          { id: 'unit', stepId: 'unit', summaries: ['42 tests passed'] },
          { id: 'sonar', stepId: 'sonar', summaries: ['### Quality gate: OK\n\n| metric | actual | status |\n| --- | --- | --- |\n| coverage | 91% | OK |'] },
        ],
      }),
    });
    const { r, calls } = reporter();
    expect(qualityGateComment(r, { cwd: dir })).toBe(true);
    const md = calls[0]!.text;
    expect(md.indexOf('#### sonar')).toBeGreaterThan(-1);
    expect(md.indexOf('#### sonar')).toBeLessThan(md.indexOf('#### unit'));
  });

  it('shipgateRules() reads Danger globals and runs every rule', async () => {
    const { dir, danger } = pullRequest(service, { 'db/migrations/V2__x.sql': 'ALTER TABLE customers ADD COLUMN x int;\n', 'src/orders.ts': '// changed\n' });
    const { r, calls } = reporter();
    const g = globalThis as Record<string, unknown>;
    Object.assign(g, { danger, fail: r.fail, warn: r.warn, message: r.message, markdown: r.markdown });
    try {
      await shipgateRules({ cwd: dir });
    } finally {
      for (const k of ['danger', 'fail', 'warn', 'message', 'markdown']) delete g[k];
    }
    expect(calls.map((c) => c.kind)).toEqual(['fail', 'warn']);
  });
});
