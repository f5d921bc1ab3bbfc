// JUnit XML from a RunReport: one <testcase> per step invocation, so Jenkins' `junit`, GitLab and
// GitHub test reporters show a pipeline like a test run. Failures carry the error and the log tail.
import type { RunReport } from './run-report.js';

function escapeXml(text: string): string {
  // XML 1.0 cannot carry most control characters at all, escaped or not: drop them.
  return text
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

const seconds = (ms: number): string => (ms / 1000).toFixed(3);

export function renderJUnit(report: RunReport): string {
  const failures = report.counts.failure + report.counts['timed-out'];
  const errors = report.counts.cancelled;
  const skipped = report.counts.skipped;
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${escapeXml(report.pipeline)}" tests="${report.invocations.length}" failures="${failures}" errors="${errors}" skipped="${skipped}" time="${seconds(report.durationMs)}">`,
    `  <testsuite name="${escapeXml(report.pipeline)}" tests="${report.invocations.length}" failures="${failures}" errors="${errors}" skipped="${skipped}" time="${seconds(report.durationMs)}" timestamp="${escapeXml(report.startedAt)}">`,
  ];
  for (const inv of report.invocations) {
    const open = `    <testcase classname="${escapeXml(`${report.pipeline}.${inv.stepId}`)}" name="${escapeXml(inv.id)}" time="${seconds(inv.durationMs)}"`;
    const log = inv.logTail.length ? `\n      <system-out>${escapeXml(inv.logTail.join('\n'))}</system-out>` : '';
    switch (inv.outcome) {
      case 'success':
        lines.push(`${open}>${log}\n    </testcase>`);
        break;
      case 'cached':
        lines.push(`${open}>\n      <system-out>restored from cache</system-out>\n    </testcase>`);
        break;
      case 'skipped':
        lines.push(`${open}>\n      <skipped message="${escapeXml(inv.reason ?? 'skipped')}"/>\n    </testcase>`);
        break;
      case 'cancelled':
        lines.push(`${open}>\n      <error type="cancelled" message="${escapeXml(inv.reason ?? 'cancelled')}"/>${log}\n    </testcase>`);
        break;
      case 'failure':
      case 'timed-out': {
        const message = inv.error?.message ?? inv.reason ?? inv.outcome;
        const type = inv.outcome === 'timed-out' ? 'timeout' : (inv.error?.code ?? 'failure');
        const body = [inv.error?.hint ? `hint: ${inv.error.hint}` : '', ...inv.logTail].filter(Boolean).join('\n');
        lines.push(`${open}>\n      <failure type="${escapeXml(type)}" message="${escapeXml(message)}">${escapeXml(body)}</failure>\n    </testcase>`);
        break;
      }
    }
  }
  lines.push('  </testsuite>', '</testsuites>', '');
  return lines.join('\n');
}
