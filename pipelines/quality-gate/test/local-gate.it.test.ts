// The local gate end to end on a real git repository made here: coverage of the lines changed since
// the merge-base with the base branch (a commit on main after branching must not count), overall
// coverage, ESLint / Jest / jscpd reports, and the errors a person meets first.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { qualityGateStep } from '../src/index.js';
import { changedLinesSince } from '../src/local/diff.js';
import { runStepInProcess } from '../../core/src/executors/local.js';
import { createProcessRunner } from '../../core/src/process/runner.js';
import { SecretMasker } from '../../core/src/process/secrets.js';
import { cli } from '../../test/helpers.js';

let repo: string;
const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, encoding: 'utf8', env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', HOME: repo } });
const lines = (n: number, tag: string) => Array.from({ length: n }, (_, i) => `export const ${tag}${i + 1} = ${i + 1};`).join('\n') + '\n';
const write = (file: string, text: string) => {
  mkdirSync(path.dirname(path.join(repo, file)), { recursive: true });
  writeFileSync(path.join(repo, file), text);
};

beforeAll(() => {
  repo = mkdtempSync(path.join(os.tmpdir(), 'shipgate-local-gate-'));
  git('init', '-q', '-b', 'main');
  git('config', 'user.email', 'dev@example.com');
  git('config', 'user.name', 'Dev');
  git('config', 'commit.gpgsign', 'false');
  write('svc/src/orders.ts', lines(10, 'o'));
  write('svc/src/other.ts', lines(5, 'x'));
  write('svc/src/legacy.ts', lines(6, 'l'));
  git('add', '.');
  git('commit', '-q', '-m', 'base');
  git('checkout', '-q', '-b', 'feature');
  // change line 3, add lines 11-13 (committed) and line 14 (not yet committed)
  const changed = lines(10, 'o').split('\n');
  changed[2] = 'export const o3 = 33;';
  write('svc/src/orders.ts', [...changed.slice(0, 10), 'export const n1 = 1;', 'export const n2 = 2;', 'export const n3 = 3;', ''].join('\n'));
  git('commit', '-q', '-am', 'feature work');
  // a moved file: only its edited line is new, not the whole file
  git('mv', 'svc/src/legacy.ts', 'svc/src/moved.ts');
  write('svc/src/moved.ts', lines(6, 'l').replace('l2 = 2', 'l2 = 22'));
  git('commit', '-q', '-am', 'move legacy');
  // main moves on after the branch: its change must not count as the feature's
  git('checkout', '-q', 'main');
  write('svc/src/other.ts', lines(8, 'x'));
  git('commit', '-q', '-am', 'main moves on');
  git('checkout', '-q', 'feature');
  write('svc/src/orders.ts', [...changed.slice(0, 10), 'export const n1 = 1;', 'export const n2 = 2;', 'export const n3 = 3;', 'export const n4 = 4;', ''].join('\n'));

  // lcov as jest writes it from svc/: orders.ts relative, other.ts absolute.
  // orders.ts: lines 1-10 and 11-12 covered, 3 and 13-14 not → changed lines 3, 11, 12, 13, 14: 2 of 5 covered.
  const da = (n: number, hit: boolean) => `DA:${n},${hit ? 1 : 0}`;
  const orders = Array.from({ length: 14 }, (_, i) => da(i + 1, ![3, 13, 14].includes(i + 1)));
  const other = Array.from({ length: 8 }, (_, i) => da(i + 1, i < 2));
  write('svc/coverage/lcov.info', ['TN:', 'SF:src/orders.ts', ...orders, 'end_of_record', `SF:${path.join(repo, 'svc/src/other.ts')}`, ...other, 'end_of_record', ''].join('\n'));
  write('svc/eslint.json', JSON.stringify([{ filePath: path.join(repo, 'svc/src/orders.ts'), messages: [{ ruleId: 'prefer-const', severity: 1, message: 'x', line: 1, column: 1 }], errorCount: 0, fatalErrorCount: 0, warningCount: 1, fixableErrorCount: 0, fixableWarningCount: 1, usedDeprecatedRules: [] }]));
  write('svc/jest.json', JSON.stringify({ numFailedTestSuites: 0, numFailedTests: 0, numPassedTestSuites: 2, numPassedTests: 9, numPendingTestSuites: 0, numPendingTests: 0, numRuntimeErrorTestSuites: 0, numTodoTests: 0, numTotalTestSuites: 2, numTotalTests: 9, startTime: 1764580000000, success: true, testResults: [] }));
  write('svc/report/jscpd-report.json', JSON.stringify({ statistics: { detectionDate: '2026-11-30T10:00:00.000Z', formats: {}, total: { lines: 22, sources: 2, clones: 0, duplicatedLines: 0, tokens: 200, duplicatedTokens: 0, percentage: 0, percentageTokens: 0, newDuplicatedLines: 0, newClones: 0 } }, duplicates: [] }));
});
afterAll(() => rmSync(repo, { recursive: true, force: true }));

const svc = () => path.join(repo, 'svc');
const run = (local: Record<string, unknown>, cwd = svc()) => runStepInProcess(qualityGateStep as never, { local }, { cwd, env: { PATH: process.env.PATH ?? '', HOME: repo } });

describe('changed lines since the merge-base', () => {
  it('are the feature branch lines (committed and not), not the base branch’s later commits', async () => {
    const runner = createProcessRunner({ env: { PATH: process.env.PATH ?? '', HOME: repo }, cwd: svc(), logger: { debug() {}, info() {}, warn() {}, error() {} }, signal: new AbortController().signal, secrets: new SecretMasker(new Set()) });
    const since = await changedLinesSince(runner, svc(), ['origin/main', 'main']);
    expect(since.base).toBe('main'); // there is no origin: the second candidate
    expect(since.mergeBase).toBe(git('rev-parse', 'main~1').trim());
    expect(Object.fromEntries([...since.changed].map(([f, s]) => [f, [...s].sort((a, b) => a - b)]))).toEqual({ 'svc/src/orders.ts': [3, 11, 12, 13, 14], 'svc/src/moved.ts': [2] });
  });
});

describe('the quality-gate step in local mode', () => {
  it('evaluates every configured condition from the reports and passes', async () => {
    const result = await run({ coverage: { min: 55, 'new-lines-min': 40 }, eslint: { report: 'eslint.json', 'max-warnings': 1 }, tests: { report: 'jest.json' }, duplication: { 'max-percent': 3 } });
    expect(result.error).toBeUndefined();
    expect(result.outputs.status).toBe('OK');
    const conditions = JSON.parse(result.outputs.conditions!) as Array<{ metric: string; actual: string }>;
    // overall: orders 11 of 14, other 2 of 8 → 13 of 22
    expect(Object.fromEntries(conditions.map((c) => [c.metric, c.actual]))).toEqual({
      coverage: String(Math.round((13 / 22) * 10000) / 100),
      new_coverage: '40',
      eslint_errors: '0',
      eslint_warnings: '1',
      test_failures: '0',
      duplicated_lines_density: '0',
    });
    expect(result.logs.join('\n')).toMatch(/2 file\(s\) changed since main/);
    expect(result.summaries[0]).toContain('| new_coverage | 40 | < | 40 | ✅ OK |');
    expect(result.outputs['dashboard-url']).toBeUndefined();
  });

  it('fails when the changed lines are not covered enough, naming the metric', async () => {
    const result = await run({ coverage: { 'new-lines-min': 80 } });
    expect(result.status).toBe('failure');
    expect(result.error).toMatchObject({ code: 'quality-gate.failed', message: 'quality gate failed: new_coverage' });
    expect(result.outputs.status).toBe('ERROR');
  });

  it('an explicit base that does not exist is quality-gate.base-ref with a fetch hint', async () => {
    const result = await run({ coverage: { 'new-lines-min': 80, base: 'origin/develop' } });
    expect(result.error?.code).toBe('quality-gate.base-ref');
    expect(result.error?.hint).toMatch(/fetch-depth: 0/);
  });

  it('a missing report is quality-gate.report-missing naming the file', async () => {
    const result = await run({ tests: { report: 'reports/jest.json' } });
    expect(result.error).toMatchObject({ code: 'quality-gate.report-missing' });
    expect(result.error?.message).toMatch(/reports\/jest.json: ENOENT/);
  });

  it('outside a git checkout, changed-line coverage says it needs one', async () => {
    const outside = mkdtempSync(path.join(os.tmpdir(), 'shipgate-no-git-'));
    try {
      mkdirSync(path.join(outside, 'coverage'));
      writeFileSync(path.join(outside, 'coverage', 'lcov.info'), 'SF:a.ts\nDA:1,1\nend_of_record\n');
      const result = await run({ coverage: { 'new-lines-min': 80 } }, outside);
      expect(result.error?.code).toBe('quality-gate.not-a-repository');
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  it('shipgate gate --local exits 1 on a failing local gate and 0 on a passing one', async () => {
    const failing = await cli(['gate', '--local', JSON.stringify({ coverage: { min: 90 } })], svc());
    expect(failing.code).toBe(1);
    expect(failing.out).toMatch(/coverage\s+59\.09\s+<\s+90\s+ERROR/);
    const passing = await cli(['gate', '--local', JSON.stringify({ eslint: { report: 'eslint.json' } })], svc());
    expect(passing.code).toBe(0);
    const bad = await cli(['gate', '--local', '{"coverage":'], svc());
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--local is not valid JSON/);
  });
});
