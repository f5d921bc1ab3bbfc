import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RunEvent } from '../../src/scheduler/events.js';
import { renderGantt, ganttText } from '../../src/report/gantt.js';
import { escapeHtml, renderHtmlReport } from '../../src/report/html.js';
import { LogFileWriter, logFileNames } from '../../src/report/log-files.js';
import { renderMarkdownSummary } from '../../src/report/markdown.js';
import { RunReportBuilder, type RunReport } from '../../src/report/run-report.js';
import { buildTimeline } from '../../src/report/timeline.js';

// build ×2 (matrix) → unit (fails after a retry, prints hostile text) → deploy (skipped); lint is
// a cache hit that waited 400 ms for a slot (-j 2).
const t0 = Date.parse('2026-01-02T03:04:05.000Z');
const events: RunEvent[] = [
  { type: 'run-start', runId: 'r1', pipeline: 'orders<b>', invocations: ['build[t=api]', 'build[t=worker]', 'lint', 'unit', 'deploy'], at: t0 },
  { type: 'step-start', id: 'build[t=api]', stepId: 'build', attempt: 1, at: t0 },
  { type: 'step-start', id: 'build[t=worker]', stepId: 'build', attempt: 1, at: t0 + 10 },
  { type: 'step-log', id: 'build[t=api]', stream: 'stdout', line: 'compiled', at: t0 + 100 },
  { type: 'step-end', id: 'build[t=api]', stepId: 'build', outcome: 'success', attempts: 1, durationMs: 400, at: t0 + 400 },
  { type: 'step-end', id: 'lint', stepId: 'lint', outcome: 'cached', attempts: 0, durationMs: 5, reason: 'inputs unchanged', at: t0 + 405 },
  { type: 'step-end', id: 'build[t=worker]', stepId: 'build', outcome: 'success', attempts: 1, durationMs: 990, at: t0 + 1_000 },
  { type: 'step-start', id: 'unit', stepId: 'unit', attempt: 1, at: t0 + 1_050 },
  ...Array.from({ length: 30 }, (_, n): RunEvent => ({ type: 'step-log', id: 'unit', stream: 'stdout', line: `line ${n}`, at: t0 + 1_100 })),
  { type: 'step-log', id: 'unit', stream: 'stderr', line: '<script>document.title="owned"</script> \u001b[31mred\u001b[0m & "quoted"', at: t0 + 1_200 },
  { type: 'step-start', id: 'unit', stepId: 'unit', attempt: 2, at: t0 + 1_500 },
  {
    type: 'step-end', id: 'unit', stepId: 'unit', outcome: 'failure', attempts: 2, durationMs: 950, at: t0 + 2_000,
    result: { status: 'failure', outputs: {}, durationMs: 950, summaries: [], error: { code: 'step.exit-code', message: 'script exited with code 1', hint: 'see <the> log' } },
  },
  { type: 'step-end', id: 'deploy', stepId: 'deploy', outcome: 'skipped', reason: 'needs unit, which failed', attempts: 0, durationMs: 0, at: t0 + 2_000 },
  { type: 'run-end', runId: 'r1', outcome: 'failure', durationMs: 2_000, at: t0 + 2_000 },
];
const needs = { build: [], lint: [], unit: ['build'], deploy: ['unit', 'lint'] };

function report(options: { logs?: boolean } = {}): RunReport {
  const builder = new RunReportBuilder({ needs, maxParallel: 2, ...(options.logs === false ? {} : { logFileOf: (id: string) => (id === 'lint' || id === 'deploy' ? undefined : `logs/${logFileNames([id]).get(id)}`) }) });
  events.forEach(builder.onEvent);
  return builder.report;
}

describe('run report: what the page needs', () => {
  it('records ends, needs, log files, slots, and queue time from the moment the needs were done', () => {
    const r = report();
    expect(r.maxParallel).toBe(2);
    const by = Object.fromEntries(r.invocations.map((i) => [i.id, i]));
    expect(by.unit).toMatchObject({ needs: ['build'], queueMs: 50, logFile: 'logs/unit.log', endedAt: new Date(t0 + 2_000).toISOString() });
    // a cache hit has no step-start: it began when its work did
    expect(by.lint).toMatchObject({ startedAt: new Date(t0 + 400).toISOString(), queueMs: 400 });
    expect(by['build[t=api]']).toMatchObject({ queueMs: 0, logFile: 'logs/build_t=api.log' });
    expect(by.deploy?.queueMs).toBeUndefined();
    expect(by.deploy?.startedAt).toBeUndefined();
  });

  it('a builder without options makes the same report as before (older readers see no new required field)', () => {
    const builder = new RunReportBuilder();
    events.forEach(builder.onEvent);
    const unit = builder.report.invocations.find((i) => i.id === 'unit')!;
    expect(unit.needs).toBeUndefined();
    expect(unit.queueMs).toBeUndefined();
    expect(unit.logFile).toBeUndefined();
    expect(builder.report.maxParallel).toBeUndefined();
  });
});

describe('timeline', () => {
  it.each([
    ['critical path: the chain that ended last', (t: ReturnType<typeof buildTimeline>) => t.criticalPath, ['build[t=worker]', 'unit']],
    ['critical path length: the sum of its durations', (t: ReturnType<typeof buildTimeline>) => t.criticalPathMs, 990 + 950],
    ['wall time', (t: ReturnType<typeof buildTimeline>) => t.wallMs, 2_000],
    ['work: every invocation that held a slot (cache hits too)', (t: ReturnType<typeof buildTimeline>) => t.busyMs, 400 + 990 + 5 + 950],
    ['slots: -j, at most the invocations that ran', (t: ReturnType<typeof buildTimeline>) => t.parallelism, 2],
    ['efficiency = work / (wall × slots)', (t: ReturnType<typeof buildTimeline>) => t.efficiency, 2_345 / 4_000],
    ['retries of the failed step', (t: ReturnType<typeof buildTimeline>) => t.rows.find((r) => r.invocation.id === 'unit')?.retries, 1],
  ])('%s', (_name, pick, expected) => {
    expect(pick(buildTimeline(report()))).toEqual(expected);
  });

  it('without needs (an older report.json) the path is the invocation that ended last, and slots are the peak concurrency', () => {
    const builder = new RunReportBuilder();
    events.forEach(builder.onEvent);
    const t = buildTimeline(builder.report);
    expect(t.criticalPath).toEqual(['unit']);
    expect(t.parallelism).toBe(2);
  });
});

describe('report.html', () => {
  const html = renderHtmlReport(report());

  it('escapes everything from the run: a log line with <script> is text, and so is the pipeline name', () => {
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('orders<b>');
    expect(html).toContain('&lt;script&gt;document.title=&quot;owned&quot;&lt;/script&gt;');
    expect(html).toContain('orders&lt;b&gt;');
    expect(html).toContain('hint: see &lt;the&gt; log');
    // terminal colour codes are dropped, not shown as garbage
    expect(html).toContain(' red &amp; ');
    expect(escapeHtml(`<a href="x" onclick='y'>&`)).toBe('&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;');
  });

  it('a report.json made by hand (shipgate report draws any) cannot inject markup through its outcome or log path', () => {
    const r = report();
    const unit = r.invocations.find((i) => i.id === 'unit')!;
    (unit as { outcome: string }).outcome = '"><img src=x onerror=alert(1)>';
    unit.logFile = 'javascript:alert(1)';
    const page = renderHtmlReport(r);
    expect(page).not.toMatch(/<img|onerror=alert\(1\)>/);
    expect(page).toContain('data-outcome="unknown"');
    expect(page).toContain('href="javascript%3Aalert(1)"'); // a relative file name, not a javascript: URL
  });

  it('is self-contained: no script, no external URL, a CSP that forbids loading anything', () => {
    expect(html).not.toMatch(/<script|<link|<img|@import|url\(/i);
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'"`);
  });

  it('puts failures first with the error code, hint and the last 20 log lines, and a link to the whole log', () => {
    expect(html.indexOf('id="failures"')).toBeLessThan(html.indexOf('id="waterfall"'));
    const failures = html.slice(html.indexOf('id="failures"'), html.indexOf('id="waterfall"'));
    expect(failures).toContain('<code>step.exit-code</code> script exited with code 1');
    expect(failures).toContain('after 2 attempts');
    expect(failures).not.toContain('line 10\n');
    expect(failures).toContain('line 11\n');
    expect(failures).toContain('<a href="logs/unit.log">full log</a>');
  });

  it('has one row per invocation with its outcome, marks the critical path, and links each row that has a log', () => {
    const rows = html.match(/<tr id="row-\d+"[^>]*>/g) ?? [];
    expect(rows).toHaveLength(5);
    expect(rows.filter((r) => r.includes('class="critical ')).length).toBe(2);
    expect(html).toContain('data-outcome="cached"');
    expect(html).toContain('data-outcome="skipped"');
    // `[` and `=` of a matrix id are encoded in the link, the id itself is shown as is
    expect(html).toContain('<a href="logs/build_t%3Dapi.log">build[t=api]</a>');
    expect(html).toMatch(/<th scope="row"><span class="mark"><\/span>lint<\/th>/);
  });

  it('shows the header figures: total, critical path, efficiency', () => {
    expect(html).toContain('<dt>Total time</dt><dd>2.0s</dd>');
    expect(html).toContain('<dt>Critical path</dt><dd>1.9s <small>2 steps</small>');
    expect(html).toContain('<dt>Parallel efficiency</dt><dd>59%');
  });

  it('cuts a huge line (a minified bundle in a stack trace) in the tail, saying how much is left out', () => {
    const builder = new RunReportBuilder();
    const huge = `x${'y'.repeat(300_000)}`;
    [...events.slice(0, -3), { type: 'step-log', id: 'unit', stream: 'stderr', line: huge, at: t0 + 1_300 } as RunEvent, ...events.slice(-3)].forEach(builder.onEvent);
    const report = builder.report;
    const unit = report.invocations.find((i) => i.id === 'unit')!;
    expect(unit.logTail.at(-1)).toBe(`x${'y'.repeat(1_999)} … [298001 more characters in the full log]`);
    // and a report written before the cut is cut when drawn
    unit.logTail.push(huge);
    const page = renderHtmlReport(report);
    expect(page.length).toBeLessThan(60_000);
    expect(page).toContain('[298001 more characters in the full log]');
  });

  it('renders a report of an older version (no needs, no log files) without failing', () => {
    const builder = new RunReportBuilder();
    events.forEach(builder.onEvent);
    const old = renderHtmlReport(builder.report);
    expect(old.match(/<tr id="row-\d+"/g)).toHaveLength(5);
    expect(old).not.toContain('full log');
  });
});

describe('Mermaid Gantt chart and the job summary', () => {
  it.each([
    ['build:api', 'build꞉api'],
    ['a;b#c', 'a,b№c'],
    ['two\nlines', 'two lines'],
    ['', '-'],
  ])('task text %j → %j', (input, expected) => {
    expect(ganttText(input)).toBe(expected);
  });

  it('one task per invocation that ran, by step, failures crit, the critical path starred', () => {
    const gantt = renderGantt(report());
    expect(gantt.split('\n').slice(0, 4)).toEqual(['gantt', '    title orders<b> — failure', '    dateFormat x', '    axisFormat %M:%S']);
    expect(gantt).toContain('    section build\n    build[t=api] (success) :t0, 0, 400\n    ★ build[t=worker] (success) :t1, 10, 1000');
    expect(gantt).toContain('    ★ unit (failure) :crit, t3, 1050, 2000');
    expect(gantt).toContain('    lint (cached) :active, t2, 400, 405');
    expect(gantt).not.toContain('deploy');
  });

  it('the summary holds the table, the chart in a mermaid block and where report.html is', () => {
    const md = renderMarkdownSummary(report(), { htmlReport: '.shipgate/report.html' });
    expect(md).toContain('| `unit` | ❌ failure |');
    expect(md).toMatch(/```mermaid\ngantt\n[\s\S]*\n```\n/);
    expect(md).toContain('`.shipgate/report.html`');
  });
});

describe('log files', () => {
  it.each([
    [['build[target=api,node=24]'], ['build_target=api_node=24.log']],
    [['a b', 'a/b'], ['a_b.log', 'a_b-2.log']],
    [['..'], ['step.log']],
    [['Unit', 'unit'], ['Unit.log', 'unit-2.log']],
  ])('names for %j', (ids, names) => {
    expect([...logFileNames(ids).values()]).toEqual(names);
  });

  it('writes every line of each invocation, marks retries, and removes the previous run\'s logs but nothing else', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sg-logs-'));
    try {
      const first = new LogFileWriter(dir);
      events.forEach(first.onEvent);
      expect(await first.close()).toBeUndefined();
      const unit = readFileSync(path.join(dir, 'logs', 'unit.log'), 'utf8').split('\n');
      expect(unit).toHaveLength(30 + 1 + 1 + 1); // 30 lines, the hostile one, the attempt marker, the last newline
      expect(unit).toContain('--- attempt 2 ---');
      expect(first.fileOf('unit')).toBe('logs/unit.log');
      expect(first.fileOf('lint')).toBeUndefined();

      // a file of the project's own in the same folder (`--report-dir .` next to a logs/ folder)
      writeFileSync(path.join(dir, 'logs', 'app.log'), 'mine');
      const second = new LogFileWriter(dir);
      second.onEvent({ type: 'run-start', runId: 'r2', pipeline: 'p', invocations: ['other'], at: 0 });
      second.onEvent({ type: 'step-log', id: 'other', stream: 'stdout', line: 'hi', at: 0 });
      await second.close();
      expect(readdirSync(path.join(dir, 'logs')).sort()).toEqual(['.shipgate-logs', 'app.log', 'other.log']);
      expect(readFileSync(path.join(dir, 'logs', 'app.log'), 'utf8')).toBe('mine');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
