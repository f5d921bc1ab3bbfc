import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { mergeRunReports } from '../../src/report/merge.js';
import type { InvocationReport, RunReport } from '../../src/report/run-report.js';
import { cli } from '../../../test/helpers.js';

function inv(id: string, outcome: InvocationReport['outcome'], startedAt: string, durationMs: number, extra: Partial<InvocationReport> = {}): InvocationReport {
  return { id, stepId: id.replace(/\[.*$/, ''), outcome, attempts: 1, startedAt, durationMs, endedAt: new Date(Date.parse(startedAt) + durationMs).toISOString(), outputs: {}, summaries: [], logTail: [], ...extra };
}

function run(runId: string, startedAt: string, durationMs: number, outcome: RunReport['outcome'], invocations: InvocationReport[]): RunReport {
  const counts = { success: 0, failure: 0, cancelled: 0, 'timed-out': 0, skipped: 0, cached: 0 };
  for (const i of invocations) counts[i.outcome] += 1;
  return { schemaVersion: 1, runId, pipeline: 'orders', startedAt, durationMs, outcome, counts, invocations, maxParallel: 2 };
}

const lint = run('r1', '2026-01-01T00:00:00.000Z', 1_000, 'success', [inv('lint', 'success', '2026-01-01T00:00:00.100Z', 900, { logFile: 'logs/lint.log' })]);
const unit = run('r2', '2026-01-01T00:00:02.000Z', 3_000, 'failure', [inv('unit', 'failure', '2026-01-01T00:00:02.000Z', 3_000, { needs: ['lint'], logFile: 'logs/unit.log' })]);

describe('merging run reports', () => {
  it('one timeline from the first start to the last end, the worst outcome, counts of every invocation', () => {
    const merged = mergeRunReports([
      { report: lint, relativeDir: 'lint' },
      { report: unit, relativeDir: 'unit' },
    ]);
    expect(merged).toMatchObject({ runId: 'r1+r2', pipeline: 'orders', startedAt: '2026-01-01T00:00:00.000Z', durationMs: 5_000, outcome: 'failure', counts: { success: 1, failure: 1 } });
    expect(merged.maxParallel).toBeUndefined();
  });

  it.each([
    ['lint', 'logs/lint.log', 'lint/logs/lint.log'],
    ['../other/unit', 'logs/unit.log', '../other/unit/logs/unit.log'],
    ['.', 'logs/lint.log', 'logs/lint.log'],
  ])('a log under %s is linked as %s → %s', (relativeDir, logFile, expected) => {
    const merged = mergeRunReports([
      { report: run('a', '2026-01-01T00:00:00.000Z', 1, 'success', [inv('x', 'success', '2026-01-01T00:00:00.000Z', 1, { logFile })]), relativeDir },
      { report: unit, relativeDir: 'unit' },
    ]);
    expect(merged.invocations[0]!.logFile).toBe(expected);
  });

  it('an invocation in two reports is kept once (the first)', () => {
    const merged = mergeRunReports([
      { report: unit, relativeDir: 'a' },
      { report: unit, relativeDir: 'b' },
    ]);
    expect(merged.invocations.map((i) => i.logFile)).toEqual(['a/logs/unit.log']);
  });
});

describe('shipgate report', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sg-report-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (sub: string, report: RunReport | string): void => {
    mkdirSync(path.join(dir, sub), { recursive: true });
    writeFileSync(path.join(dir, sub, 'report.json'), typeof report === 'string' ? report : JSON.stringify(report));
  };

  it('merges the report.json of each subdirectory into one report.html whose links reach each log', async () => {
    write('jenkins/lint', lint);
    write('jenkins/unit', unit);
    const r = await cli(['report', 'jenkins'], dir);
    expect(r).toMatchObject({ code: 0, err: 'report: report.html (2 invocations from 2 reports)\n' });
    const html = readFileSync(path.join(dir, 'report.html'), 'utf8');
    expect(html).toContain('href="jenkins/lint/logs/lint.log"');
    expect(html).toContain('href="jenkins/unit/logs/unit.log"');
    // unit needs lint: the chain crosses the two runs
    expect(html.match(/class="critical /g)).toHaveLength(2);
  });

  it('one report is written beside it by default', async () => {
    const r = await cli(['report', 'jenkins/unit/report.json'], dir);
    expect(r.code).toBe(0);
    expect(readFileSync(path.join(dir, 'jenkins', 'unit', 'report.html'), 'utf8')).toContain('href="logs/unit.log"');
  });

  it.each([
    [['nowhere'], 'report.not-found', 'no such file or directory'],
    [['empty'], 'report.not-found', 'no report.json in it or in its subdirectories'],
    [['bad'], 'report.invalid', 'not a shipgate run report'],
    [['old'], 'report.invalid', 'schemaVersion 7'],
  ])('%j is a usage error (exit 2): %s', async (args, code, message) => {
    mkdirSync(path.join(dir, 'empty'), { recursive: true });
    write('bad', '{ nope');
    write('old', JSON.stringify({ schemaVersion: 7, invocations: [] }));
    const r = await cli(['report', ...args], dir);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`[${code}]`);
    expect(r.err).toContain(message);
    expect(r.err).not.toMatch(/\n\s+at /);
  });
});
