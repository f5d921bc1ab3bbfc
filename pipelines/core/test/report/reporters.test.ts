import { describe, expect, it } from '@jest/globals';
import { PassThrough } from 'node:stream';
import type { RunEvent } from '../../src/scheduler/events.js';
import { chooseReporterKind, colourlessEnv, createReporter, renderJUnit, RunReportBuilder } from '../../src/report/index.js';

// A small run: build succeeds, unit fails with a ShipgateError, deploy is skipped because of it.
const events: RunEvent[] = [
  { type: 'run-start', runId: 'r1', pipeline: 'orders', invocations: ['build', 'unit', 'deploy'], at: 1_000 },
  { type: 'step-start', id: 'build', stepId: 'build', attempt: 1, at: 1_000 },
  { type: 'step-start', id: 'unit', stepId: 'unit', attempt: 1, at: 1_001 },
  { type: 'step-log', id: 'build', stream: 'stdout', line: 'compiled 12 files', at: 1_100 },
  { type: 'step-log', id: 'unit', stream: 'stdout', line: 'expected <b>2</b> & got 3', at: 1_200 },
  {
    type: 'step-end', id: 'build', stepId: 'build', outcome: 'success', attempts: 1, durationMs: 1_500, at: 2_500,
    result: { status: 'success', outputs: { version: '1.2.3' }, durationMs: 1_500, summaries: [] },
  },
  { type: 'step-retry', id: 'unit', attempt: 2, delayMs: 1_000, reason: 'exit code 1', at: 2_600 },
  { type: 'step-start', id: 'unit', stepId: 'unit', attempt: 2, at: 3_600 },
  {
    type: 'step-end', id: 'unit', stepId: 'unit', outcome: 'failure', attempts: 2, durationMs: 2_000, at: 5_600,
    result: { status: 'failure', outputs: {}, durationMs: 2_000, summaries: [], error: { code: 'step.exit-code', message: 'script exited with code 1', hint: 'see the log' } },
  },
  { type: 'step-end', id: 'deploy', stepId: 'deploy', outcome: 'skipped', reason: 'needs unit, which failed', attempts: 0, durationMs: 0, at: 5_600 },
  { type: 'run-end', runId: 'r1', outcome: 'failure', durationMs: 4_600, at: 5_600 },
];

async function capture(kind: 'plain' | 'github' | 'tty'): Promise<string> {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const reporter = await createReporter(kind, { stream, color: false });
  for (const event of events) reporter.onEvent(event);
  reporter.close();
  return text;
}

describe('run report', () => {
  it('folds events into per-invocation outcomes, outputs and counts', () => {
    const builder = new RunReportBuilder();
    events.forEach(builder.onEvent);
    const report = builder.report;
    expect(report.outcome).toBe('failure');
    expect(report.counts).toMatchObject({ success: 1, failure: 1, skipped: 1 });
    expect(report.invocations.find((i) => i.id === 'build')?.outputs).toEqual({ version: '1.2.3' });
    expect(report.invocations.find((i) => i.id === 'unit')).toMatchObject({ attempts: 2, error: { code: 'step.exit-code' } });
    expect(report.invocations.find((i) => i.id === 'deploy')?.reason).toBe('needs unit, which failed');
  });

  it('renders JUnit with one testcase per invocation, escaped, with failure and skipped elements', () => {
    const builder = new RunReportBuilder();
    events.forEach(builder.onEvent);
    const xml = renderJUnit(builder.report);
    expect(xml).toContain('<testsuites name="orders" tests="3" failures="1" errors="0" skipped="1"');
    expect(xml).toContain('<testcase classname="orders.build" name="build" time="1.500">');
    expect(xml).toContain('<failure type="step.exit-code" message="script exited with code 1">');
    expect(xml).toContain('expected &lt;b&gt;2&lt;/b&gt; &amp; got 3');
    expect(xml).toContain('<skipped message="needs unit, which failed"/>');
  });
});

describe('reporters', () => {
  it('plain: prefixed lines, a summary, and no escape codes', async () => {
    const text = await capture('plain');
    expect(text).toContain('[build] compiled 12 files');
    expect(text).toContain('[unit] attempt 1 failed (exit code 1); retrying in 1.0s');
    expect(text).toContain('[unit] ✗ failure in 2.0s after 2 attempts: script exited with code 1 (hint: see the log)');
    expect(text).toContain('[deploy] - skipped: needs unit, which failed');
    expect(text).toContain('orders: failure in 4.6s — 1 succeeded, 0 cached, 1 failed, 1 skipped');
    expect(text).not.toContain('\u001b[');
  });

  it('github: one ::group:: per finished step and an ::error annotation for the failure', async () => {
    const text = await capture('github');
    expect(text).toContain('::group::✓ build: success in 1.5s\ncompiled 12 files\n::endgroup::');
    expect(text).toContain('::error title=shipgate%3A unit failure::script exited with code 1');
    // lines of parallel steps never interleave inside a group
    const unitGroup = text.slice(text.indexOf('::group::✗ unit'));
    expect(unitGroup.split('::endgroup::')[0]).not.toContain('compiled 12 files');
  });

  it('tty: prints finished steps with the failing step log and the summary', async () => {
    const text = await capture('tty');
    expect(text).toContain('✓ build success in 1.5s');
    expect(text).toContain('│ expected <b>2</b> & got 3');
    expect(text).toContain('orders: failure in 4.6s');
  });

  it('chooses github under Actions, tty on a terminal, plain otherwise', () => {
    expect(chooseReporterKind({ GITHUB_ACTIONS: 'true' }, true)).toBe('github');
    expect(chooseReporterKind({}, true)).toBe('tty');
    expect(chooseReporterKind({}, false)).toBe('plain');
  });
});

describe('colour codes in logs (issue 14 §3)', () => {
  const coloured: RunEvent[] = [
    { type: 'run-start', runId: 'r2', pipeline: 'lib', invocations: ['test'], at: 0 },
    { type: 'step-start', id: 'test', stepId: 'test', attempt: 1, at: 0 },
    { type: 'step-log', id: 'test', stream: 'stdout', line: '\u001b[32m✓\u001b[39m 12 tests \u001b[1mpassed\u001b[22m\u001b]8;;https://x\u0007link\u001b]8;;\u0007', at: 1 },
    { type: 'step-end', id: 'test', stepId: 'test', outcome: 'success', attempts: 1, durationMs: 5, at: 5, result: { status: 'success', outputs: {}, durationMs: 5, summaries: [] } },
    { type: 'run-end', runId: 'r2', outcome: 'success', durationMs: 5, at: 5 },
  ];

  it.each(['plain', 'github'] as const)('%s: escape codes a tool wrote anyway are stripped', async (kind) => {
    const stream = new PassThrough();
    let text = '';
    stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
    const reporter = await createReporter(kind, { stream });
    for (const event of coloured) reporter.onEvent(event);
    reporter.close();
    expect(text).toContain('✓ 12 tests passedlink');
    expect(text).not.toContain('\u001b');
  });

  it('steps of a logged run get NO_COLOR=1 and FORCE_COLOR=0, unless the user set them', () => {
    expect(colourlessEnv({ PATH: '/bin', HOME: undefined })).toEqual({ NO_COLOR: '1', FORCE_COLOR: '0', PATH: '/bin' });
    expect(colourlessEnv({ FORCE_COLOR: '3' })).toEqual({ NO_COLOR: '1', FORCE_COLOR: '3' });
  });
});
