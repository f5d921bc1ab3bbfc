// The Sonar side of the quality gate against a loopback server speaking the Web API's JSON: waiting
// for the analysis (success, gate failure, FAILED, CANCELED, 401, 403, 404, 5xx then success, slow),
// the step with a stand-in scanner (the token only in its environment), and `shipgate gate`.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { waitForQualityGate } from '../src/sonar-client.js';
import { qualityGateStep } from '../src/index.js';
import { runStepInProcess } from '../../core/src/executors/local.js';
import { isShipgateError, type ShipgateError } from '../../protocol/src/errors.js';
import { cli } from '../../test/helpers.js';
import { ceTask, projectStatus, sonarError, startFakeSonar, type FakeSonar } from './fake-sonar.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const fakeScanner = path.join(here, 'fixtures', 'fake-scanner.mjs');
const token = 'squ_5ecret0token0for0tests0only00000000000';

let sonar: FakeSonar;
let dir: string;

beforeAll(async () => {
  sonar = await startFakeSonar({ token });
});
afterAll(async () => {
  await sonar.close();
});
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'shipgate-gate-'));
  sonar.tasks.clear();
  sonar.statuses.clear();
  sonar.requests.length = 0;
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const passing = () => projectStatus('OK', [['new_coverage', 'LT', '80', '91.2345', 'OK'], ['new_violations', 'GT', '0', '0', 'OK']]);
const failing = () => projectStatus('ERROR', [['new_coverage', 'LT', '85', '82.50562381034781', 'ERROR'], ['new_duplicated_lines_density', 'GT', '3', '1.2', 'OK']]);
const reportTask = (id: string, server = sonar.url) => ({ ceTaskId: id, serverUrl: server, dashboardUrl: `${server}/dashboard?id=orders-service`, projectKey: 'orders-service' });
const fast = { pollIntervalMs: 5, maxPollIntervalMs: 20, retryDelayMs: 5 };

async function gateError(promise: Promise<unknown>): Promise<ShipgateError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isShipgateError(error)) throw new Error(`expected a ShipgateError, got ${String(error)}`);
  return error;
}

describe('waitForQualityGate', () => {
  it('polls until the analysis succeeds, then returns every condition of the gate', async () => {
    sonar.tasks.set('T1', [ceTask('T1', 'PENDING'), ceTask('T1', 'IN_PROGRESS'), ceTask('T1', 'SUCCESS')]);
    sonar.statuses.set('analysis-T1', [passing()]);
    const polled: string[] = [];
    const result = await waitForQualityGate({ reportTask: reportTask('T1'), token, ...fast, onPoll: (t) => polled.push(t.status) });
    expect(polled).toEqual(['PENDING', 'IN_PROGRESS', 'SUCCESS']);
    expect(result.status).toBe('OK');
    expect(result.dashboardUrl).toBe(`${sonar.url}/dashboard?id=orders-service`);
    expect(result.conditions).toEqual([
      { metric: 'new_coverage', actual: '91.2345', operator: 'LT', threshold: '80', status: 'OK' },
      { metric: 'new_violations', actual: '0', operator: 'GT', threshold: '0', status: 'OK' },
    ]);
    expect(sonar.requests.map((r) => r.path)).toEqual(['/api/ce/task', '/api/ce/task', '/api/ce/task', '/api/qualitygates/project_status']);
    expect(sonar.requests.at(-1)!.params).toEqual({ analysisId: 'analysis-T1' });
    expect(new Set(sonar.requests.map((r) => r.authorization))).toEqual(new Set([`Bearer ${token}`]));
  });

  it('returns ERROR (without throwing) when the gate fails', async () => {
    sonar.tasks.set('T2', [ceTask('T2', 'SUCCESS')]);
    sonar.statuses.set('analysis-T2', [failing()]);
    const result = await waitForQualityGate({ reportTask: reportTask('T2'), token, ...fast });
    expect(result.status).toBe('ERROR');
    expect(result.conditions.filter((c) => c.status === 'ERROR').map((c) => c.metric)).toEqual(['new_coverage']);
  });

  it('keeps a server context path (https://host/sonar)', async () => {
    sonar.tasks.set('T3', [ceTask('T3', 'SUCCESS')]);
    sonar.statuses.set('analysis-T3', [passing()]);
    await waitForQualityGate({ reportTask: reportTask('T3', `${sonar.url}/sonar`), token, ...fast });
    expect(sonar.requests.map((r) => r.path)).toEqual(['/sonar/api/ce/task', '/sonar/api/qualitygates/project_status']);
  });

  it.each([
    ['FAILED', 'quality-gate.analysis-failed', /Fail to extract report/],
    ['CANCELED', 'quality-gate.analysis-canceled', /cancelled on the server/],
  ])('an analysis that ends %s is a %s error', async (status, code, message) => {
    sonar.tasks.set('T4', [ceTask('T4', 'IN_PROGRESS'), ceTask('T4', status, status === 'FAILED' ? { errorMessage: 'Fail to extract report AVaXuGAi_te3Ldc_YItm from database' } : {})]);
    const error = await gateError(waitForQualityGate({ reportTask: reportTask('T4'), token, ...fast }));
    expect(error.code).toBe(code);
    expect(error.message).toMatch(message);
    expect(error.exitCode).toBe(3);
  });

  it('a rejected token is quality-gate.unauthorized, naming SONAR_TOKEN in the hint', async () => {
    const error = await gateError(waitForQualityGate({ reportTask: reportTask('T5'), token: 'wrong', ...fast }));
    expect(error.code).toBe('quality-gate.unauthorized');
    expect(error.hint).toMatch(/SONAR_TOKEN/);
    expect(error.message).not.toContain('wrong');
  });

  it('403 is quality-gate.forbidden and says which permission is missing', async () => {
    sonar.tasks.set('T6', [sonarError(403, 'Insufficient privileges')]);
    const error = await gateError(waitForQualityGate({ reportTask: reportTask('T6'), token, ...fast }));
    expect(error.code).toBe('quality-gate.forbidden');
    expect(error.message).toMatch(/Insufficient privileges/);
    expect(error.hint).toMatch(/Browse/);
  });

  it('an unknown task is quality-gate.not-found with the server message', async () => {
    const error = await gateError(waitForQualityGate({ reportTask: reportTask('NOPE'), token, ...fast }));
    expect(error.code).toBe('quality-gate.not-found');
    expect(error.message).toMatch(/No activity found for task 'NOPE'/);
  });

  it('retries 5xx and 429 answers with back-off, then carries on', async () => {
    sonar.tasks.set('T7', [sonarError(503, 'Service Unavailable'), { status: 429, body: '' }, ceTask('T7', 'SUCCESS')]);
    sonar.statuses.set('analysis-T7', [{ status: 500, body: { errors: [{ msg: 'boom' }] } }, passing()]);
    const result = await waitForQualityGate({ reportTask: reportTask('T7'), token, ...fast, retries: 3 });
    expect(result.status).toBe('OK');
    expect(sonar.requests.map((r) => r.path)).toEqual(['/api/ce/task', '/api/ce/task', '/api/ce/task', '/api/qualitygates/project_status', '/api/qualitygates/project_status']);
  });

  it('gives up on a server that keeps answering 5xx after the bounded retries', async () => {
    sonar.tasks.set('T8', [sonarError(500, 'An error has occurred')]);
    const error = await gateError(waitForQualityGate({ reportTask: reportTask('T8'), token, ...fast, retries: 2 }));
    expect(error.code).toBe('quality-gate.server-error');
    expect(error.message).toMatch(/answered 500 .*3 attempts.*An error has occurred/);
    expect(sonar.requests).toHaveLength(3);
  });

  it('an unreachable server is quality-gate.unreachable', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const error = await gateError(waitForQualityGate({ reportTask: reportTask('T9', `http://127.0.0.1:${port}`), token, ...fast, retries: 1 }));
    expect(error.code).toBe('quality-gate.unreachable');
    expect(error.message).toMatch(/ECONNREFUSED/);
  });

  it('after 3 calls that failed in a row, calls to that server fail at once (circuit breaker)', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const wait = () => gateError(waitForQualityGate({ reportTask: reportTask('T13', `http://127.0.0.1:${port}`), token, ...fast, retries: 0 }));
    for (let i = 0; i < 3; i += 1) expect((await wait()).message).toMatch(/ECONNREFUSED/);
    const open = await wait();
    expect(open.code).toBe('quality-gate.unreachable');
    expect(open.message).toMatch(/failed 3 times in a row; not calling it again for 30 s/);
  });

  it('a slow server hits the deadline: quality-gate.timeout', async () => {
    sonar.tasks.set('T10', [{ ...ceTask('T10', 'IN_PROGRESS'), delayMs: 5000 }]);
    const started = performance.now();
    const error = await gateError(waitForQualityGate({ reportTask: reportTask('T10'), token, ...fast, timeoutMs: 300 }));
    expect(error.code).toBe('quality-gate.timeout');
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('an analysis that never finishes hits the deadline too', async () => {
    sonar.tasks.set('T11', [ceTask('T11', 'IN_PROGRESS')]);
    const error = await gateError(waitForQualityGate({ reportTask: reportTask('T11'), token, ...fast, timeoutMs: 250 }));
    expect(error.code).toBe('quality-gate.timeout');
    expect(sonar.requests.length).toBeGreaterThan(2);
  });

  it('stops at once when its AbortSignal is aborted, with the signal reason', async () => {
    sonar.tasks.set('T12', [ceTask('T12', 'PENDING')]);
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('run cancelled')), 100);
    const error = await waitForQualityGate({ reportTask: reportTask('T12'), token, ...fast, signal: controller.signal }).catch((e: unknown) => e);
    expect((error as Error).message).toBe('run cancelled');
  });
});

describe('the quality-gate step (sonar mode, stand-in scanner)', () => {
  const record = () => JSON.parse(readFileSync(path.join(dir, 'scanner-record.json'), 'utf8')) as { args: string[]; env: Record<string, string | null> };
  const run = (inputs: Record<string, unknown>, env: Record<string, string> = {}, ci = {}) =>
    runStepInProcess(qualityGateStep as never, { scanner: { command: process.execPath, args: [fakeScanner] }, 'poll-interval': '10ms', ...inputs }, {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '', SONAR_TOKEN: token, SONAR_HOST_URL: sonar.url, FAKE_SCANNER_RECORD: path.join(dir, 'scanner-record.json'), ...env },
      ci: { provider: 'local', ...ci },
    });

  it('runs the scanner with the properties and PR parameters, the token only in its environment, then passes', async () => {
    writeFileSync(path.join(dir, 'sonar-project.properties'), '# checked in\nsonar.projectKey=orders-service\nsonar.sources=src\nsonar.exclusions=**/*.test.ts\n');
    sonar.tasks.set('AYtask0001', [ceTask('AYtask0001', 'IN_PROGRESS'), ceTask('AYtask0001', 'SUCCESS')]);
    sonar.statuses.set('analysis-AYtask0001', [passing()]);
    const result = await run(
      { properties: { 'sonar.sources': 'src,lib', 'sonar.qualitygate.wait': false } },
      { GITHUB_BASE_REF: 'main' },
      { provider: 'github', pullRequest: 42, branch: 'feature/gate', event: 'pull_request' },
    );
    expect(result.error).toBeUndefined();
    expect(result.status).toBe('success');
    const { args, env } = record();
    expect(args).toEqual(
      expect.arrayContaining([
        '-Dsonar.projectKey=orders-service',
        '-Dsonar.sources=src,lib',
        '-Dsonar.qualitygate.wait=false',
        `-Dsonar.host.url=${sonar.url}`,
        '-Dsonar.pullrequest.key=42',
        '-Dsonar.pullrequest.branch=feature/gate',
        '-Dsonar.pullrequest.base=main',
      ]),
    );
    expect(args.some((a) => a.startsWith('-Dsonar.branch.name'))).toBe(false);
    expect(args.join(' ')).not.toContain(token);
    expect(env.SONAR_TOKEN).toBe(token);
    expect(result.outputs.status).toBe('OK');
    expect(result.outputs['dashboard-url']).toBe(`${sonar.url}/dashboard?id=orders-service`);
    expect(JSON.parse(result.outputs.conditions!)).toHaveLength(2);
    expect(result.logs.join('\n')).toMatch(/new_coverage\s+91\.23\s+<\s+80\s+OK/);
    expect(result.logs.join('\n')).not.toContain(token);
    expect(result.summaries[0]).toContain('| new_coverage | 91.23 | < | 80 | ✅ OK |');
  });

  it('names the branch on a branch build, and fails the step on a failing gate with the table in the summary', async () => {
    sonar.tasks.set('AYtask0002', [ceTask('AYtask0002', 'SUCCESS')]);
    sonar.statuses.set('analysis-AYtask0002', [failing()]);
    const result = await run({ properties: { 'sonar.projectKey': 'orders-service' } }, { FAKE_SCANNER_TASK: 'AYtask0002' }, { branch: 'release/1.4' });
    expect(record().args).toContain('-Dsonar.branch.name=release/1.4');
    expect(result.status).toBe('failure');
    expect(result.error).toMatchObject({ code: 'quality-gate.failed', message: 'quality gate failed: new_coverage' });
    expect(result.outputs.status).toBe('ERROR');
    expect(result.summaries[0]).toMatch(/^### Quality gate: ❌ ERROR/);
    expect(result.summaries[0]).toContain('| new_coverage | 82.51 | < | 85 | ❌ ERROR |');
  });

  it('leaves the CI parameters out when ci-parameters is false, and removes a stale report-task.txt first', async () => {
    mkdirSync(path.join(dir, '.scannerwork'));
    writeFileSync(path.join(dir, '.scannerwork', 'report-task.txt'), `ceTaskId=OLD\nserverUrl=${sonar.url}\n`);
    const result = await run({ 'ci-parameters': false, properties: { 'sonar.projectKey': 'p' } }, { FAKE_SCANNER_EXIT: '2' }, { branch: 'main' });
    expect(record().args.some((a) => a.includes('sonar.branch'))).toBe(false);
    expect(result.error?.code).toBe('quality-gate.scanner-failed');
    expect(existsSync(path.join(dir, '.scannerwork', 'report-task.txt'))).toBe(false);
    expect(sonar.requests).toHaveLength(0);
  });

  it('by default runs the sonarqube-scanner package, which reaches SONAR_HOST_URL with the token from its environment', async () => {
    // The real scanner then asks the server for a JRE and its engine; this stand-in server has none,
    // so the scan fails — after proving which scanner ran and how it was given the token.
    const result = await runStepInProcess(qualityGateStep as never, { properties: { 'sonar.projectKey': 'orders-service' }, 'ci-parameters': false }, {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '', HOME: dir, SONAR_USER_HOME: path.join(dir, '.sonar'), SONAR_TOKEN: token, SONAR_HOST_URL: sonar.url },
      ci: { provider: 'local' },
    });
    expect(result.error?.code).toBe('quality-gate.scanner-failed');
    expect(result.logs.join('\n')).toMatch(/Using SonarScanner for NPM/);
    const authenticated = sonar.requests.filter((r) => r.path.startsWith('/api/v2/analysis/'));
    expect(authenticated.length).toBeGreaterThan(0);
    expect(authenticated.every((r) => r.authorization === `Bearer ${token}`)).toBe(true);
    expect(result.logs.join('\n')).not.toContain(token);
  });

  it('is cancelled promptly while it waits, when the run is cancelled', async () => {
    writeFileSync(path.join(dir, 'report-task.txt'), `ceTaskId=Q1\nserverUrl=${sonar.url}\n`);
    sonar.tasks.set('Q1', [ceTask('Q1', 'PENDING')]);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 150);
    const started = performance.now();
    const result = await runStepInProcess(qualityGateStep as never, { 'report-task': 'report-task.txt', 'poll-interval': '20ms' }, { cwd: dir, env: { SONAR_TOKEN: token }, signal: controller.signal });
    expect(result.status).toBe('cancelled');
    expect(performance.now() - started).toBeLessThan(1500);
    expect(sonar.requests.length).toBeGreaterThan(1);
  });

  it('refuses a token in with.properties (it would be on the scanner command line)', async () => {
    const result = await run({ properties: { 'sonar.token': 'abc' } });
    expect(result.error?.code).toBe('quality-gate.token-in-properties');
    expect(existsSync(path.join(dir, 'scanner-record.json'))).toBe(false);
  });

  it('takes the server URL from sonar-project.properties when SONAR_HOST_URL is empty', async () => {
    writeFileSync(path.join(dir, 'sonar-project.properties'), `sonar.projectKey=orders-service\nsonar.host.url=${sonar.url}\n`);
    sonar.tasks.set('AYtask0001', [ceTask('AYtask0001', 'SUCCESS')]);
    sonar.statuses.set('analysis-AYtask0001', [passing()]);
    const result = await run({}, { SONAR_HOST_URL: '' });
    expect(result.error).toBeUndefined();
    expect(record().args).toContain(`-Dsonar.host.url=${sonar.url}`);
    expect(record().env.SONAR_HOST_URL).toBe(sonar.url);
  });

  it('without a server URL it says how to set one', async () => {
    const result = await run({}, { SONAR_HOST_URL: '' });
    expect(result.error).toMatchObject({ code: 'quality-gate.no-server' });
  });

  it('rejects bad inputs at validation, naming the field', async () => {
    const result = await run({ timeout: 'soon', mode: 'local' });
    expect(result.error?.code).toBe('step.inputs');
    expect(result.error?.message).toMatch(/timeout/);
    expect(result.error?.message).toMatch(/local/);
  });
});

describe('shipgate gate --report-task', () => {
  const writeTask = (id: string) => {
    const file = path.join(dir, 'target', 'sonar', 'report-task.txt');
    mkdirSync(path.dirname(file), { recursive: true });
    // as Maven's sonar plugin writes it
    writeFileSync(file, `projectKey=com.acme:orders\nserverUrl=${sonar.url}\nserverVersion=10.7.0.96327\ndashboardUrl=${sonar.url}/dashboard?id=com.acme%3Aorders\nceTaskId=${id}\nceTaskUrl=${sonar.url}/api/ce/task?id=${id}\n`);
    return path.relative(dir, file);
  };

  it('exits 0 and prints the conditions table when the gate passes', async () => {
    sonar.tasks.set('M1', [ceTask('M1', 'PENDING'), ceTask('M1', 'SUCCESS')]);
    sonar.statuses.set('analysis-M1', [passing()]);
    const r = await cli(['gate', '--report-task', writeTask('M1'), '--poll-interval', '10ms'], dir, { SONAR_TOKEN: token });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/quality gate: OK/);
    expect(r.out).toMatch(/metric\s+actual\s+operator\s+threshold\s+status/);
    expect(r.out).toMatch(/new_violations\s+0\s+>\s+0\s+OK/);
    expect(r.out).not.toContain(token);
  });

  it('exits 1 when the gate fails, and --json prints the conditions', async () => {
    sonar.tasks.set('M2', [ceTask('M2', 'SUCCESS')]);
    sonar.statuses.set('analysis-M2', [failing()]);
    const summary = path.join(dir, 'summary.md');
    const r = await cli(['gate', '--report-task', writeTask('M2'), '--json'], dir, { SONAR_TOKEN: token, GITHUB_STEP_SUMMARY: summary });
    expect(r.code).toBe(1);
    const json = JSON.parse(r.out) as { status: string; dashboardUrl: string; conditions: Array<{ metric: string; status: string }> };
    expect(json.status).toBe('ERROR');
    expect(json.dashboardUrl).toBe(`${sonar.url}/dashboard?id=com.acme%3Aorders`);
    expect(json.conditions.map((c) => `${c.metric}:${c.status}`)).toEqual(['new_coverage:ERROR', 'new_duplicated_lines_density:OK']);
    expect(r.err).toMatch(/quality gate failed: new_coverage \[quality-gate.failed\]/);
    expect(readFileSync(summary, 'utf8')).toContain('### Quality gate: ❌ ERROR');
  });

  it('exits 3 on a bad token, 3 on an analysis the server failed, 2 on a missing report-task file', async () => {
    const bad = await cli(['gate', '--report-task', writeTask('M3')], dir, { SONAR_TOKEN: 'nope' });
    expect(bad.code).toBe(3);
    expect(bad.err).toMatch(/rejected the token \(401\) \[quality-gate.unauthorized\]/);
    sonar.tasks.set('M4', [ceTask('M4', 'FAILED', { errorMessage: 'Unsupported report version' })]);
    const failed = await cli(['gate', '--report-task', writeTask('M4')], dir, { SONAR_TOKEN: token });
    expect(failed.code).toBe(3);
    expect(failed.err).toMatch(/Unsupported report version \[quality-gate.analysis-failed\]/);
    const missing = await cli(['gate', '--report-task', 'nowhere/report-task.txt'], dir, { SONAR_TOKEN: token });
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/cannot read .*nowhere\/report-task.txt: ENOENT \[quality-gate.report-task-missing\]/);
  });

  it('exits 3 on a timeout, and 2 on a bad flag value', async () => {
    sonar.tasks.set('M5', [ceTask('M5', 'IN_PROGRESS')]);
    const slow = await cli(['gate', '--report-task', writeTask('M5'), '--timeout', '200ms', '--poll-interval', '20ms'], dir, { SONAR_TOKEN: token });
    expect(slow.code).toBe(3);
    expect(slow.err).toMatch(/\[quality-gate.timeout\]/);
    const usage = await cli(['gate', '--report-task', writeTask('M5'), '--timeout', 'forever'], dir, { SONAR_TOKEN: token });
    expect(usage.code).toBe(2);
    expect(usage.err).toMatch(/timeout/);
  });
});
