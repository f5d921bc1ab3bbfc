// Table tests of the gate's pure parts: conditions, the local gate, report readers, lcov, diffs,
// properties files, scanner properties, the poll cadence and the tables.
import { describe, expect, it } from '@jest/globals';
import { evaluateGateCondition, gateStatus, type GateCondition } from '../src/conditions.js';
import { evaluateLocalGate, localGateSchema, baseCandidates } from '../src/local/gate.js';
import { changedLinesCoverage, overallCoverage, parseLcov } from '../src/local/lcov.js';
import { parseUnifiedDiff } from '../src/local/diff.js';
import { eslintCounts, jestCounts, jscpdDuplication } from '../src/local/reports.js';
import { parseProperties, parseReportTask } from '../src/properties.js';
import { analysisProperties, ciAnalysisProperties, reportTaskPath } from '../src/scanner.js';
import { gateResultFromSonar, pollDelay } from '../src/sonar-client.js';
import { renderConditionsMarkdown, renderConditionsText } from '../src/table.js';
import type { CiContext } from '../../protocol/src/step.js';

describe('evaluateGateCondition (Sonar semantics: the operator says when it fails)', () => {
  it.each([
    ['coverage', 79.9, 'LT', 80, 'ERROR', '79.9'],
    ['coverage', 80, 'LT', 80, 'OK', '80'],
    ['coverage', 81.23456, 'LT', 80, 'OK', '81.23'],
    ['eslint_errors', 1, 'GT', 0, 'ERROR', '1'],
    ['eslint_errors', 0, 'GT', 0, 'OK', '0'],
    ['duplicated_lines_density', 3.01, 'GT', 3, 'ERROR', '3.01'],
    ['reliability_rating', 1, 'NE', 1, 'OK', '1'],
    ['reliability_rating', 2, 'NE', 1, 'ERROR', '2'],
    ['blocker_violations', 0, 'EQ', 0, 'ERROR', '0'],
    ['new_coverage', undefined, 'LT', 90, 'OK', undefined],
  ] as const)('%s %s %s %s → %s', (metric, actual, operator, threshold, status, shown) => {
    expect(evaluateGateCondition(metric, actual, operator, threshold)).toEqual({ metric, actual: shown, operator, threshold: String(threshold), status });
  });

  it('one ERROR fails the gate; WARN and NONE do not', () => {
    const c = (status: GateCondition['status']): GateCondition => ({ metric: 'm', actual: '1', operator: 'GT', threshold: '0', status });
    expect(gateStatus([])).toBe('OK');
    expect(gateStatus([c('OK'), c('WARN'), c('NONE')])).toBe('OK');
    expect(gateStatus([c('OK'), c('ERROR')])).toBe('ERROR');
  });
});

describe('gateResultFromSonar', () => {
  const cond = (status: string) => ({ status: status as 'OK', metricKey: 'new_coverage', comparator: 'LT' as const, errorThreshold: '80', actualValue: '70' });
  it.each([
    ['OK', 'OK', 'OK', undefined],
    ['ERROR', 'ERROR', 'ERROR', undefined],
    ['ERROR', 'OK', 'ERROR', undefined], // the server's verdict wins even if no condition is marked
    ['WARN', 'WARN', 'OK', 'WARN'],
    ['NONE', 'OK', 'OK', 'NONE'],
  ])('server %s with a condition %s → %s', (server, condition, status, serverStatus) => {
    const result = gateResultFromSonar({ status: server as 'OK', conditions: [cond(condition)] }, 'https://sonar/dashboard?id=x');
    expect(result.status).toBe(status);
    expect(result.serverStatus).toBe(serverStatus);
    expect(result.dashboardUrl).toBe('https://sonar/dashboard?id=x');
  });

  it('takes the warning threshold of old servers when there is no error threshold', () => {
    expect(gateResultFromSonar({ status: 'WARN', conditions: [{ status: 'WARN', metricKey: 'coverage', comparator: 'LT', warningThreshold: '60', actualValue: '55' }] }).conditions[0]!.threshold).toBe('60');
  });
});

describe('evaluateLocalGate', () => {
  const config = localGateSchema.parse({
    coverage: { min: 80, 'new-lines-min': 90 },
    eslint: { report: 'eslint.json', 'max-warnings': 5 },
    tests: { report: 'jest.json' },
    duplication: { 'max-percent': 3 },
  });

  it.each([
    ['everything within bounds', { coverage: 85, newCoverage: 95, eslintErrors: 0, eslintWarnings: 5, testFailures: 0, duplicatedLinesDensity: 2.5 }, 'OK', []],
    ['low coverage', { coverage: 79.5, newCoverage: 95, eslintErrors: 0, eslintWarnings: 0, testFailures: 0, duplicatedLinesDensity: 0 }, 'ERROR', ['coverage']],
    ['no changed lines to cover', { coverage: 85, newCoverage: undefined, eslintErrors: 0, eslintWarnings: 0, testFailures: 0, duplicatedLinesDensity: 0 }, 'OK', []],
    ['one lint error, too many warnings', { coverage: 85, newCoverage: 95, eslintErrors: 1, eslintWarnings: 6, testFailures: 0, duplicatedLinesDensity: 0 }, 'ERROR', ['eslint_errors', 'eslint_warnings']],
    ['a failed test and duplication', { coverage: 85, newCoverage: 89.9, eslintErrors: 0, eslintWarnings: 0, testFailures: 2, duplicatedLinesDensity: 3.2 }, 'ERROR', ['new_coverage', 'test_failures', 'duplicated_lines_density']],
  ])('%s', (_name, measures, status, failing) => {
    const result = evaluateLocalGate(config, measures);
    expect(result.status).toBe(status);
    expect(result.conditions.filter((c) => c.status === 'ERROR').map((c) => c.metric)).toEqual(failing);
    expect(result.conditions.map((c) => c.metric)).toEqual(['coverage', 'new_coverage', 'eslint_errors', 'eslint_warnings', 'test_failures', 'duplicated_lines_density']);
  });

  it('only states the conditions that have thresholds (max-errors defaults to 0)', () => {
    const result = evaluateLocalGate(localGateSchema.parse({ eslint: { report: 'e.json' } }), { eslintErrors: 0, eslintWarnings: 40 });
    expect(result.conditions).toEqual([{ metric: 'eslint_errors', actual: '0', operator: 'GT', threshold: '0', status: 'OK' }]);
  });

  it.each([
    [{}, /at least one/],
    [{ coverage: { min: 120 } }, /100/],
    [{ coverage: { lcov: 'coverage/lcov.info' } }, /set min, new-lines-min or both/],
    [{ eslint: { 'max-errors': 0 } }, /report/],
    [{ tests: { report: 'j.json', 'max-failure': 1 } }, /max-failure/],
  ])('rejects %j', (input, message) => {
    const parsed = localGateSchema.safeParse(input);
    expect(parsed.success).toBe(false);
    expect(JSON.stringify(parsed.error!.issues)).toMatch(message);
  });

  it.each([
    [{ coverage: { min: 1, base: 'develop' } }, {}, {}, ['develop']],
    [{ coverage: { 'new-lines-min': 80 } }, { GITHUB_BASE_REF: 'release' }, {}, ['origin/release', 'release']],
    [{ coverage: { 'new-lines-min': 80 } }, {}, { defaultBranch: 'trunk' }, ['origin/trunk', 'trunk']],
    [{ coverage: { 'new-lines-min': 80 } }, {}, {}, ['origin/main', 'main']],
  ])('base candidates for %j, env %j, ci %j', (input, env, ci, expected) => {
    expect(baseCandidates(localGateSchema.parse(input), { provider: 'local', ...ci }, env)).toEqual(expected);
  });
});

describe('lcov', () => {
  const lcov = ['TN:', 'SF:src/orders.ts', 'FN:1,total', 'DA:1,4', 'DA:2,4', 'DA:3,0', 'DA:5,1', 'LF:4', 'LH:3', 'end_of_record', 'SF:src/app.ts', 'DA:10,0', 'DA:11,0', 'end_of_record', ''].join('\n');

  it('counts instrumented lines and covered ones over every file', () => {
    const coverage = parseLcov(lcov);
    expect([...coverage.keys()]).toEqual(['src/orders.ts', 'src/app.ts']);
    expect(overallCoverage(coverage)).toEqual({ lines: 6, covered: 3, percent: 50 });
  });

  it.each([
    ['covered changed lines', [['src/orders.ts', [1, 2]]], { lines: 2, covered: 2, percent: 100 }],
    ['a mix, non-instrumented lines ignored', [['src/orders.ts', [2, 3, 4]], ['src/app.ts', [10, 99]]], { lines: 3, covered: 1, percent: (1 / 3) * 100 }],
    ['a file the tests never loaded', [['src/new.ts', [1, 2, 3]]], { lines: 0, covered: 0, percent: undefined }],
  ] as const)('%s', (_name, changed, expected) => {
    const map = new Map(changed.map(([f, lines]) => [f, new Set(lines)]));
    expect(changedLinesCoverage(parseLcov(lcov), map)).toEqual(expected);
  });

  it('reads CRLF files, DA checksums, and the highest count of a line listed twice', () => {
    const coverage = parseLcov('SF:src/a.ts\r\nDA:1,0,Zm9v\r\nDA:2,3,YmFy\r\nDA:1,2\r\nend_of_record\r\n');
    expect([...coverage.get('src/a.ts')!]).toEqual([[1, 2], [2, 3]]);
  });

  it('an empty tracefile has no coverage to speak of', () => {
    expect(overallCoverage(parseLcov(''))).toEqual({ lines: 0, covered: 0, percent: undefined });
  });
});

describe('parseUnifiedDiff', () => {
  it('collects added and modified lines of the new version, skipping deletions and removed files', () => {
    const diff = [
      'diff --git a/src/orders.ts b/src/orders.ts',
      'index 1111111..2222222 100644',
      '--- a/src/orders.ts',
      '+++ b/src/orders.ts',
      '@@ -3 +3 @@ export function total() {',
      '-  return 0;',
      '+  return 1;',
      '@@ -10,0 +11,3 @@',
      '+a',
      '+b',
      '+c',
      '@@ -20,2 +23,0 @@',
      '-gone',
      '-gone',
      'diff --git a/src/legacy.ts b/src/moved.ts',
      'similarity index 90%',
      'rename from src/legacy.ts',
      'rename to src/moved.ts',
      'index 3333333..4444444 100644',
      '--- a/src/legacy.ts',
      '+++ b/src/moved.ts',
      '@@ -2 +2 @@',
      '-old',
      '+new',
      'diff --git a/old.ts b/old.ts',
      'deleted file mode 100644',
      '--- a/old.ts',
      '+++ /dev/null',
      '@@ -1,2 +0,0 @@',
      '-x',
      '-y',
      'diff --git "a/caf\\303\\251.ts" "b/caf\\303\\251.ts"',
      'new file mode 100644',
      '--- /dev/null',
      '+++ "b/caf\\303\\251.ts"',
      '@@ -0,0 +1,2 @@',
      '+1',
      '+2',
    ].join('\n');
    const changed = parseUnifiedDiff(diff);
    expect(Object.fromEntries([...changed].map(([f, s]) => [f, [...s]]))).toEqual({ 'src/orders.ts': [3, 11, 12, 13], 'src/moved.ts': [2], 'café.ts': [1, 2] });
  });
});

describe('report readers', () => {
  it('ESLint JSON: sums errors and warnings over files', () => {
    const report = [
      { filePath: '/w/src/a.ts', messages: [{ ruleId: 'no-unused-vars', severity: 2 }], errorCount: 1, fatalErrorCount: 0, warningCount: 2, fixableErrorCount: 0, fixableWarningCount: 0 },
      { filePath: '/w/src/b.ts', messages: [], errorCount: 0, fatalErrorCount: 0, warningCount: 1, fixableErrorCount: 0, fixableWarningCount: 0 },
    ];
    expect(eslintCounts(report)).toEqual({ errors: 1, warnings: 3 });
    expect(eslintCounts([])).toEqual({ errors: 0, warnings: 0 });
  });

  it('Jest JSON: failed tests plus suites that could not run', () => {
    expect(jestCounts({ numFailedTests: 2, numPassedTests: 10, numTotalTests: 12, numRuntimeErrorTestSuites: 1, success: false, testResults: [] })).toEqual({ total: 12, failed: 3 });
    expect(jestCounts({ numFailedTests: 0, numTotalTests: 5, success: true })).toEqual({ total: 5, failed: 0 });
  });

  it('jscpd JSON: the total percentage of duplicated lines', () => {
    const report = { statistics: { detectionDate: '2026-11-30T10:00:00.000Z', formats: {}, total: { lines: 2000, sources: 40, clones: 3, duplicatedLines: 50, tokens: 9000, duplicatedTokens: 200, percentage: 2.5, percentageTokens: 2.22, newDuplicatedLines: 0, newClones: 0 } }, duplicates: [] };
    expect(jscpdDuplication(report)).toEqual({ lines: 2000, duplicatedLines: 50, percent: 2.5 });
  });

  it.each([
    ['ESLint', () => eslintCounts({ results: [] }, 'eslint.json'), /eslint.json is not ESLint's JSON output/],
    ['Jest', () => jestCounts([], 'jest.json'), /jest.json is not Jest's JSON results/],
    ['jscpd', () => jscpdDuplication({ duplicates: [] }, 'dup.json'), /dup.json is not jscpd's JSON report/],
  ])('a report of the wrong shape (%s) is an error naming the file', (_name, read, message) => {
    expect(read).toThrow(message);
  });
});

describe('properties files', () => {
  it('reads comments, separators, escapes and continuations', () => {
    const text = ['# comment', '! also a comment', 'sonar.projectKey=orders', 'sonar.projectName : Orders Service', 'sonar.sources src', 'serverUrl=http\\://localhost\\:9000', 'sonar.exclusions=**/*.test.ts,\\', '    **/fixtures/**', 'empty=', ''].join('\n');
    expect(parseProperties(text)).toEqual({
      'sonar.projectKey': 'orders',
      'sonar.projectName': 'Orders Service',
      'sonar.sources': 'src',
      serverUrl: 'http://localhost:9000',
      'sonar.exclusions': '**/*.test.ts,**/fixtures/**',
      empty: '',
    });
  });

  it('report-task.txt needs ceTaskId and serverUrl', () => {
    expect(parseReportTask('projectKey=p\nserverUrl=https://sonarcloud.io\nceTaskId=AY1\ndashboardUrl=https://sonarcloud.io/dashboard?id=p\n', 'r.txt')).toEqual({ projectKey: 'p', serverUrl: 'https://sonarcloud.io', ceTaskId: 'AY1', dashboardUrl: 'https://sonarcloud.io/dashboard?id=p' });
    expect(() => parseReportTask('projectKey=p\n', 'r.txt')).toThrow('r.txt has no ceTaskId or serverUrl');
  });
});

describe('scanner properties', () => {
  const gh = (extra: Partial<CiContext>): CiContext => ({ provider: 'github', ...extra });
  it.each([
    ['a pull request', gh({ pullRequest: 7, branch: 'feat/x' }), { GITHUB_BASE_REF: 'main' }, {}, { 'sonar.pullrequest.key': '7', 'sonar.pullrequest.branch': 'feat/x', 'sonar.pullrequest.base': 'main' }],
    ['a Jenkins change request', { provider: 'jenkins', pullRequest: 12, branch: 'feat/y' } as CiContext, { CHANGE_TARGET: 'develop' }, {}, { 'sonar.pullrequest.key': '12', 'sonar.pullrequest.branch': 'feat/y', 'sonar.pullrequest.base': 'develop' }],
    ['a branch build', gh({ branch: 'main' }), {}, {}, { 'sonar.branch.name': 'main' }],
    ['a tag build', gh({ branch: 'main', tag: 'v1.0.0' }), {}, {}, {}],
    ['the user set the branch', gh({ branch: 'main' }), {}, { 'sonar.branch.name': 'other' }, {}],
    ['a local run without a branch', { provider: 'local' } as CiContext, {}, {}, {}],
  ])('%s', (_name, ci, env, given, expected) => {
    expect(ciAnalysisProperties(ci, env, given)).toEqual(expected);
  });

  it('with: overrides the file, credentials never pass, the host URL is set', () => {
    const props = analysisProperties({
      file: { 'sonar.projectKey': 'a', 'sonar.sources': 'src', 'sonar.login': 'leaked' },
      given: { 'sonar.sources': 'lib' },
      ci: { provider: 'local', branch: 'main' },
      env: {},
      hostUrl: 'https://sonar.example.com',
      ciParameters: false,
    });
    expect(props).toEqual({ 'sonar.projectKey': 'a', 'sonar.sources': 'lib', 'sonar.host.url': 'https://sonar.example.com' });
    expect(() => analysisProperties({ file: {}, given: { 'sonar.password': 'x' }, ci: { provider: 'local' }, env: {}, ciParameters: true })).toThrow(/sonar.password would put a credential/);
  });

  it.each([
    [{}, '/w/.scannerwork/report-task.txt'],
    [{ 'sonar.working.directory': 'build/sonar' }, '/w/build/sonar/report-task.txt'],
    [{ 'sonar.projectBaseDir': 'svc' }, '/w/svc/.scannerwork/report-task.txt'],
    [{ 'sonar.scanner.metadataFilePath': 'out/task.txt' }, '/w/out/task.txt'],
  ])('report-task.txt for %j is %s', (props, expected) => {
    expect(reportTaskPath('/w', props)).toBe(expected);
  });
});

describe('pollDelay', () => {
  it.each([
    [0, 0, 500],
    [0, 1, 1000],
    [1, 1, 1500],
    [3, 0.5, Math.round(3375 * 0.75)],
    [20, 1, 10_000],
    [20, 0, 5000],
  ])('attempt %d with random %d → %d ms (1 s start, 10 s cap, equal jitter)', (attempt, random, expected) => {
    expect(pollDelay(attempt, 1000, 10_000, () => random)).toBe(expected);
  });
});

describe('tables', () => {
  const result = {
    status: 'ERROR' as const,
    dashboardUrl: 'https://sonar/dashboard?id=p',
    conditions: [
      { metric: 'new_coverage', actual: '82.50562381034781', operator: 'LT' as const, threshold: '85', status: 'ERROR' as const },
      { metric: 'new_violations', actual: '0', operator: 'GT' as const, threshold: '0', status: 'OK' as const },
      { metric: 'new_coverage_on|pipes', actual: undefined, operator: 'LT' as const, threshold: '90', status: 'OK' as const },
    ],
  };

  it('log: aligned columns, the verdict first, the dashboard last', () => {
    expect(renderConditionsText(result)).toEqual([
      'quality gate: ERROR',
      '  metric                 actual  operator  threshold  status',
      '  new_coverage           82.51   <         85         ERROR',
      '  new_violations         0       >         0          OK',
      '  new_coverage_on|pipes  —       <         90         OK',
      '  dashboard: https://sonar/dashboard?id=p',
    ]);
  });

  it('Markdown: a heading, one row per condition (pipes escaped), a link', () => {
    expect(renderConditionsMarkdown(result).split('\n')).toEqual([
      '### Quality gate: ❌ ERROR',
      '',
      '| metric | actual | operator | threshold | status |',
      '| --- | --- | --- | --- | --- |',
      '| new_coverage | 82.51 | < | 85 | ❌ ERROR |',
      '| new_violations | 0 | > | 0 | ✅ OK |',
      '| new_coverage_on\\|pipes | — | < | 90 | ✅ OK |',
      '',
      '[Open the analysis](https://sonar/dashboard?id=p)',
    ]);
    expect(renderConditionsMarkdown({ status: 'OK', conditions: [] })).toBe('### Quality gate: ✅ OK\n\nThe gate has no conditions.');
  });
});
