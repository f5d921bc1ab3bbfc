// The measures a local gate reads from the reports tools already write: ESLint's JSON formatter
// (`eslint -f json -o eslint.json`), Jest's `--json --outputFile` results, and jscpd's JSON reporter
// (`jscpd --reporters json`). Pure over the parsed JSON; a report of the wrong shape is an error
// naming the file, not a silently passing gate.
import { ShipgateError, ExitCode } from '@shipgate/protocol';

function wrongShape(file: string, what: string, expected: string): ShipgateError {
  return new ShipgateError('quality-gate.report-invalid', `${file} is not ${what}`, { exitCode: ExitCode.usage, hint: `expected ${expected}` });
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export interface EslintCounts {
  errors: number;
  warnings: number;
}

/** ESLint's `json` formatter: an array of `{ filePath, messages, errorCount, fatalErrorCount, warningCount }`. */
export function eslintCounts(report: unknown, file = 'the ESLint report'): EslintCounts {
  if (!Array.isArray(report)) throw wrongShape(file, "ESLint's JSON output", 'an array of results (eslint -f json -o eslint.json)');
  let errors = 0;
  let warnings = 0;
  for (const result of report) {
    if (!isRecord(result) || typeof result.errorCount !== 'number' || typeof result.warningCount !== 'number') {
      throw wrongShape(file, "ESLint's JSON output", 'entries with errorCount and warningCount');
    }
    errors += result.errorCount;
    warnings += result.warningCount;
  }
  return { errors, warnings };
}

export interface TestCounts {
  total: number;
  failed: number;
}

/**
 * Jest's `--json` results. Suites that failed to run at all (a syntax error, a failing import) are
 * counted as failures: their tests never ran, so "0 failed tests" would be a lie.
 */
export function jestCounts(report: unknown, file = 'the Jest results'): TestCounts {
  if (!isRecord(report) || typeof report.numFailedTests !== 'number' || typeof report.numTotalTests !== 'number') {
    throw wrongShape(file, "Jest's JSON results", 'the file jest --json --outputFile=… writes (numFailedTests, numTotalTests)');
  }
  const runtimeErrors = typeof report.numRuntimeErrorTestSuites === 'number' ? report.numRuntimeErrorTestSuites : 0;
  return { total: report.numTotalTests, failed: report.numFailedTests + runtimeErrors };
}

export interface DuplicationMeasure {
  lines: number;
  duplicatedLines: number;
  /** Percentage of duplicated lines (0–100). */
  percent: number;
}

/** jscpd's JSON reporter: `statistics.total.{lines, duplicatedLines, percentage}`. */
export function jscpdDuplication(report: unknown, file = 'the jscpd report'): DuplicationMeasure {
  const total = isRecord(report) && isRecord(report.statistics) && isRecord(report.statistics.total) ? report.statistics.total : undefined;
  if (!total || typeof total.lines !== 'number' || typeof total.duplicatedLines !== 'number') {
    throw wrongShape(file, "jscpd's JSON report", 'jscpd-report.json from jscpd --reporters json (statistics.total.lines, duplicatedLines)');
  }
  const percent = typeof total.percentage === 'number' ? total.percentage : total.lines === 0 ? 0 : (total.duplicatedLines / total.lines) * 100;
  return { lines: total.lines, duplicatedLines: total.duplicatedLines, percent };
}
