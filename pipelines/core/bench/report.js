// Report benchmark (node bench/report.js; needs `npm run build`). What report.html costs at the end
// of a run, against what every run already does: writing report.json (JSON.stringify of the same
// report). Reports of 200 and 2,000 invocations, each with a 50-line log tail, one failure in ten.
import { renderHtmlReport, RunReportBuilder } from '@shipgate/core';

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function report(size) {
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  const ids = Array.from({ length: size }, (_, n) => (n % 5 === 0 ? `step-${n}[shard=${n % 3}]` : `step-${n}`));
  const stepOf = (id) => id.replace(/\[.*$/, '');
  const builder = new RunReportBuilder({ needs: Object.fromEntries(ids.map((id, n) => [stepOf(id), n < 16 ? [] : [stepOf(ids[n - 16])]])), maxParallel: 16, logFileOf: (id) => `logs/${id}.log` });
  builder.onEvent({ type: 'run-start', runId: 'bench', pipeline: 'bench', invocations: ids, at: t0 });
  ids.forEach((id, n) => {
    const start = t0 + Math.floor(n / 16) * 1000;
    builder.onEvent({ type: 'step-start', id, stepId: stepOf(id), attempt: 1, at: start });
    for (let l = 0; l < 50; l += 1) builder.onEvent({ type: 'step-log', id, stream: 'stdout', line: `${id}: line ${l} <with> "markup" & more text to make it a real line`, at: start + l });
    const failed = n % 10 === 9;
    builder.onEvent({
      type: 'step-end', id, stepId: stepOf(id), outcome: failed ? 'failure' : 'success', attempts: 1, durationMs: 900, at: start + 900,
      ...(failed ? { result: { status: 'failure', outputs: {}, durationMs: 900, summaries: [], error: { code: 'step.exit-code', message: 'exit 1', hint: 'see the log' } } } : {}),
    });
  });
  builder.onEvent({ type: 'run-end', runId: 'bench', outcome: 'failure', durationMs: Math.ceil(size / 16) * 1000, at: t0 + Math.ceil(size / 16) * 1000 });
  return builder.report;
}

function time(fn, rounds) {
  const samples = [];
  let out;
  for (let i = 0; i < rounds; i += 1) {
    const t = performance.now();
    out = fn();
    samples.push(performance.now() - t);
  }
  return { ms: median(samples), bytes: out.length };
}

console.log('| invocations | report.html | report.json (what every run writes) | ratio | html size |');
console.log('| --- | --- | --- | --- | --- |');
for (const size of [200, 2000]) {
  const r = report(size);
  const rounds = size > 1000 ? 7 : 21;
  time(() => renderHtmlReport(r), 3); // warm-up
  const html = time(() => renderHtmlReport(r), rounds);
  const json = time(() => JSON.stringify(r, null, 2), rounds);
  console.log(`| ${size} | ${html.ms.toFixed(1)} ms | ${json.ms.toFixed(1)} ms | ${(html.ms / json.ms).toFixed(2)}× | ${Math.round(html.bytes / 1024)} KiB |`);
}
