// report.html: the run as a page people look at. One self-contained file (inline CSS, no script,
// no fonts, no network), so it opens from a CI artifact, a Jenkins report page or a laptop alike.
// Failures come first (error code, hint, the last lines of the log, a link to the whole log), then
// a waterfall: one row per invocation on one time axis, coloured by outcome, the critical path
// marked. Every row has a fixed height and every column a fixed width, so nothing moves while it
// loads, and 200 rows stay a small table. Everything from the run (ids, log lines, messages) is
// escaped: a log line holding `<script>` is text on the page.
import { stripVTControlCharacters } from 'node:util';
import type { InvocationOutcome } from '../scheduler/events.js';
import { formatDuration } from './format.js';
import { clipLine, type InvocationReport, type RunReport } from './run-report.js';
import { buildTimeline, type Timeline, type TimelineRow } from './timeline.js';

/** Log lines shown with each failure (the whole log is one link away). */
const failureTailLines = 20;

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** A relative link to a log file, each path segment encoded (ids hold `[`, `=` and `,`). */
function logHref(file: string): string {
  return escapeHtml(file.split('/').map(encodeURIComponent).join('/'));
}

const outcomeLabel: Record<InvocationOutcome, string> = {
  success: 'success',
  failure: 'failure',
  'timed-out': 'timed out',
  cancelled: 'cancelled',
  skipped: 'skipped',
  cached: 'cached',
};

const isFailure = (i: InvocationReport): boolean => i.outcome === 'failure' || i.outcome === 'timed-out';

/** The outcome as a class name and its label: `shipgate report` draws report.json files from anywhere, so even these are checked. */
function outcomeOf(i: InvocationReport): { cls: string; label: string } {
  const known = Object.hasOwn(outcomeLabel, i.outcome);
  return known ? { cls: i.outcome, label: outcomeLabel[i.outcome] } : { cls: 'unknown', label: String(i.outcome) };
}

function pct(part: number, whole: number): string {
  return whole > 0 ? `${Math.min(100, Math.max(0, (part / whole) * 100)).toFixed(2)}%` : '0%';
}

const styles = `
:root{color-scheme:light dark;--bg:#fff;--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--panel:#f6f8fa;--grid:rgba(0,0,0,.07);
--success:#1a7f37;--failure:#cf222e;--cached:#0969da;--skipped:#8c959f;--cancelled:#bf8700;--queue:rgba(130,80,223,.28);--crit:#8250df;--focus:#0969da}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#9198a1;--line:#3d444d;--panel:#151b23;--grid:rgba(255,255,255,.08);
--success:#3fb950;--failure:#f85149;--cached:#4493f8;--skipped:#656c76;--cancelled:#d29922;--queue:rgba(171,125,248,.35);--crit:#ab7df8;--focus:#4493f8}}
*{box-sizing:border-box}
body{margin:0;padding:16px 24px;background:var(--bg);color:var(--fg);font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif}
a{color:inherit}
a:focus-visible{outline:2px solid var(--focus);outline-offset:2px;border-radius:2px}
.skip{position:absolute;left:-9999px}.skip:focus{left:24px;top:4px;background:var(--panel);padding:4px 8px}
h1{font-size:20px;margin:0 0 8px}h2{font-size:16px;margin:24px 0 8px}h3{font-size:14px;margin:0 0 4px}
.badge{display:inline-block;padding:0 8px;border-radius:10px;font-size:13px;color:#fff;vertical-align:middle}
.b-success{background:var(--success)}.b-failure,.b-timed-out{background:var(--failure)}.b-cancelled{background:var(--cancelled)}.b-running{background:var(--skipped)}
.figures{display:grid;grid-template-columns:repeat(auto-fill,minmax(190px,1fr));gap:8px;margin:8px 0 0;padding:0}
.figures div{background:var(--panel);border:1px solid var(--line);border-radius:6px;padding:6px 10px;height:86px;overflow:hidden}
.figures dt{color:var(--muted);font-size:12px}.figures dd{overflow-wrap:anywhere}.figures dd{margin:0;font-size:16px;font-variant-numeric:tabular-nums}
.figures small{display:-webkit-box;-webkit-line-clamp:2;-webkit-box-orient:vertical;overflow:hidden;color:var(--muted);font-size:12px}
.failure{border:1px solid var(--failure);border-left-width:4px;border-radius:6px;padding:8px 12px;margin:0 0 12px;background:var(--panel)}
.failure p{margin:4px 0}.hint{color:var(--muted)}
pre.log{display:flex;flex-direction:column-reverse;margin:6px 0;padding:8px;max-height:31em;overflow:auto;background:var(--bg);border:1px solid var(--line);border-radius:4px;font:12px/1.5 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;white-space:pre-wrap;overflow-wrap:anywhere}
code{font:12px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
.legend{display:flex;flex-wrap:wrap;gap:14px;margin:0 0 8px;padding:0;list-style:none;color:var(--muted);font-size:12px}
.legend span{display:inline-block;width:12px;height:12px;border-radius:2px;vertical-align:-2px;margin-right:4px}
table.waterfall{width:100%;table-layout:fixed;border-collapse:collapse;font-size:13px}
.waterfall col.c-name{width:26%}.waterfall col.c-outcome{width:84px}.waterfall col.c-num{width:72px}.waterfall col.c-retry{width:66px}
.waterfall th,.waterfall td{height:24px;padding:0 6px;border-bottom:1px solid var(--line);white-space:nowrap;overflow:hidden;text-overflow:ellipsis;text-align:left}
.waterfall thead th{height:28px;color:var(--muted);font-weight:600;position:sticky;top:0;background:var(--bg);z-index:1}
.waterfall .num{text-align:right;font-variant-numeric:tabular-nums}
.waterfall tbody th{font-weight:400}
.waterfall tr.critical th{font-weight:600;box-shadow:inset 3px 0 var(--crit)}
.mark{color:var(--crit);display:inline-block;width:1.2em}
.track{position:relative;padding:0!important;background-image:linear-gradient(to right,var(--grid) 1px,transparent 1px);background-size:25% 100%}
.track .bar,.track .queue,.track .tick{position:absolute;top:5px;height:14px;border-radius:2px}
.track .queue{background:var(--queue)}
.track .tick{width:2px;background:var(--skipped)}
.critical .bar{outline:2px solid var(--crit);outline-offset:1px}
.o-success{background:var(--success)}.o-failure,.o-timed-out{background:var(--failure)}.o-cached{background:var(--cached)}
.o-skipped{background:var(--skipped)}.o-cancelled{background:var(--cancelled)}
.axis{position:relative;height:28px}
.axis span{position:absolute;top:6px;transform:translateX(-50%);font-weight:400;font-variant-numeric:tabular-nums}
.axis span:first-child{transform:none}.axis span:last-child{transform:translateX(-100%)}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip-path:inset(50%)}
footer{margin-top:16px;color:var(--muted);font-size:12px}
`;

function figure(label: string, value: string, note = ''): string {
  return `<div><dt>${escapeHtml(label)}</dt><dd>${escapeHtml(value)}${note ? ` <small>${escapeHtml(note)}</small>` : ''}</dd></div>`;
}

function header(report: RunReport, t: Timeline): string {
  const c = report.counts;
  const efficiency = t.efficiency === undefined ? '—' : `${Math.round(t.efficiency * 100)}%`;
  const counts = [`${c.success} ok`, `${c.cached} cached`, `${c.failure + c['timed-out']} failed`, `${c.skipped} skipped`, ...(c.cancelled ? [`${c.cancelled} cancelled`] : [])].join(' · ');
  return [
    '<header>',
    `<h1>${escapeHtml(report.pipeline)} <span class="badge b-${escapeHtml(report.outcome)}">${escapeHtml(report.outcome)}</span></h1>`,
    '<dl class="figures">',
    figure('Total time', formatDuration(t.wallMs)),
    figure('Critical path', formatDuration(t.criticalPathMs), `${t.criticalPath.length} ${t.criticalPath.length === 1 ? 'step' : 'steps'}`),
    figure('Parallel efficiency', efficiency, `${formatDuration(t.busyMs)} of work / (wall × ${t.parallelism})`),
    figure('Invocations', String(report.invocations.length), counts),
    figure('Run', report.runId || '—', new Date(report.startedAt).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z')),
    '</dl>',
    '</header>',
  ].join('\n');
}

function failures(rows: readonly TimelineRow[], rowIds: ReadonlyMap<string, string>): string {
  const failed = rows.filter((r) => isFailure(r.invocation));
  if (failed.length === 0) return '';
  const items = failed.map((r) => {
    const i = r.invocation;
    // reports of older versions may hold lines of any length
    const tail = i.logTail.slice(-failureTailLines).map((line) => escapeHtml(clipLine(stripVTControlCharacters(line))));
    const attempts = i.attempts > 1 ? ` after ${i.attempts} attempts` : '';
    const error = i.error
      ? `<p class="error"><code>${escapeHtml(i.error.code)}</code> ${escapeHtml(i.error.message)}</p>${i.error.hint ? `<p class="hint">hint: ${escapeHtml(i.error.hint)}</p>` : ''}`
      : i.reason
        ? `<p class="error">${escapeHtml(i.reason)}</p>`
        : '';
    const links = [`<a href="#${rowIds.get(i.id)}">show in the waterfall</a>`, ...(i.logFile ? [`<a href="${logHref(i.logFile)}">full log</a>`] : [])].join(' · ');
    return [
      `<article class="failure">`,
      `<h3>${escapeHtml(i.id)} — ${escapeHtml(outcomeOf(i).label)} in ${escapeHtml(formatDuration(i.durationMs))}${escapeHtml(attempts)}</h3>`,
      error,
      // column-reverse keeps the box scrolled to its end: the last line, usually the error, shows first
      tail.length ? `<pre class="log" aria-label="last lines of the log of ${escapeHtml(i.id)}"><code>${tail.join('\n')}</code></pre>` : '<p class="hint">it printed nothing</p>',
      `<p>${links}</p>`,
      '</article>',
    ].join('\n');
  });
  return `<section id="failures" aria-labelledby="failures-h">\n<h2 id="failures-h">Failures (${failed.length})</h2>\n${items.join('\n')}\n</section>`;
}

function axis(wallMs: number): string {
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => `<span style="left:${(f * 100).toFixed(0)}%">${escapeHtml(formatDuration(wallMs * f))}</span>`);
  return `<div class="axis" aria-hidden="true">${ticks.join('')}</div>`;
}

function track(r: TimelineRow, wallMs: number): string {
  const i = r.invocation;
  if (r.startMs === undefined || r.endMs === undefined) return '';
  const parts: string[] = [];
  if (r.readyMs !== undefined && r.startMs - r.readyMs > 0) {
    parts.push(`<span class="queue" style="left:${pct(r.readyMs, wallMs)};width:${pct(r.startMs - r.readyMs, wallMs)}"></span>`);
  }
  const width = Math.max(0.25, ((r.endMs - r.startMs) / (wallMs || 1)) * 100);
  parts.push(`<span class="bar o-${outcomeOf(i).cls}" style="left:${pct(r.startMs, wallMs)};width:${width.toFixed(2)}%"></span>`);
  return parts.join('');
}

function waterfallRow(r: TimelineRow, rowId: string, wallMs: number, origin: number): string {
  const i = r.invocation;
  const name = escapeHtml(i.id);
  const label = i.logFile ? `<a href="${logHref(i.logFile)}">${name}</a>` : name;
  const mark = r.critical ? '<span class="mark" aria-hidden="true">◆</span><span class="sr">(critical path) </span>' : '<span class="mark"></span>';
  const skippedAt = r.startMs === undefined && i.endedAt !== undefined ? `<span class="tick" style="left:calc(${pct(Date.parse(i.endedAt) - origin, wallMs)} - 2px)"></span>` : '';
  const { cls, label: outcome } = outcomeOf(i);
  const title = [i.id, outcome, i.reason ?? i.error?.message ?? ''].filter(Boolean).join(' — ');
  return (
    `<tr id="${rowId}" class="${r.critical ? 'critical ' : ''}r-${cls}" data-outcome="${cls}" title="${escapeHtml(title)}">` +
    `<th scope="row">${mark}${label}</th>` +
    `<td>${escapeHtml(outcome)}</td>` +
    `<td class="track">${track(r, wallMs)}${skippedAt}</td>` +
    `<td class="num">${r.startMs === undefined ? '—' : escapeHtml(formatDuration(i.durationMs))}</td>` +
    `<td class="num">${i.queueMs === undefined ? '—' : escapeHtml(formatDuration(i.queueMs))}</td>` +
    `<td class="num">${r.retries}</td>` +
    '</tr>'
  );
}

/** Rows by start time; those that never started at the time they were skipped, after the ones that started with them. */
function byStart(rows: readonly TimelineRow[], origin: number): TimelineRow[] {
  const at = (r: TimelineRow): number => r.startMs ?? (r.invocation.endedAt === undefined ? Infinity : Date.parse(r.invocation.endedAt) - origin);
  return rows.map((r, index) => ({ r, index })).sort((a, b) => at(a.r) - at(b.r) || a.index - b.index).map((x) => x.r);
}

function legend(): string {
  const items: [string, string][] = [['success', 'success'], ['failure', 'failure'], ['cached', 'cached'], ['skipped', 'skipped'], ['cancelled', 'cancelled']];
  const swatches = items.map(([cls, label]) => `<li><span class="o-${cls}"></span>${label}</li>`);
  swatches.push('<li><span style="background:var(--queue)"></span>queued (needs done, no free slot)</li>', '<li><span style="outline:2px solid var(--crit)"></span>◆ critical path</li>');
  return `<ul class="legend">${swatches.join('')}</ul>`;
}

function waterfall(t: Timeline, rowIds: ReadonlyMap<string, string>, origin: number): string {
  const rows = byStart(t.rows, origin).map((r) => waterfallRow(r, rowIds.get(r.invocation.id)!, t.wallMs, origin));
  return [
    '<section id="waterfall" aria-labelledby="waterfall-h" tabindex="-1">',
    `<h2 id="waterfall-h">Waterfall (${t.rows.length} ${t.rows.length === 1 ? 'invocation' : 'invocations'})</h2>`,
    legend(),
    '<table class="waterfall">',
    '<colgroup><col class="c-name"><col class="c-outcome"><col><col class="c-num"><col class="c-num"><col class="c-retry"></colgroup>',
    `<thead><tr><th scope="col">step</th><th scope="col">outcome</th><th scope="col">${axis(t.wallMs)}<span class="sr">timeline</span></th><th scope="col" class="num">time</th><th scope="col" class="num">queued</th><th scope="col" class="num">retries</th></tr></thead>`,
    `<tbody>\n${rows.join('\n')}\n</tbody>`,
    '</table>',
    '</section>',
  ].join('\n');
}

export function renderHtmlReport(report: RunReport): string {
  const t = buildTimeline(report);
  const origin = Date.parse(report.startedAt);
  const rowIds = new Map(report.invocations.map((i, n) => [i.id, `row-${n}`]));
  const failed = report.invocations.some(isFailure);
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    // nothing on this page may load anything: no script, no fetch, no font, no image
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
    `<title>${escapeHtml(`shipgate: ${report.pipeline} — ${report.outcome}`)}</title>`,
    `<style>${styles}</style>`,
    '</head>',
    '<body>',
    `<a class="skip" href="#${failed ? 'failures' : 'waterfall'}">Skip to the ${failed ? 'failures' : 'waterfall'}</a>`,
    header(report, t),
    '<main>',
    failures(t.rows, rowIds),
    waterfall(t, rowIds, origin),
    '</main>',
    `<footer>shipgate report.json schema ${report.schemaVersion} · times are from the machine that ran the pipeline</footer>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
