// `uses: quality-gate` — a quality gate in one of two modes:
//   sonar (default): run the Sonar scanner (or take the report-task.txt another scanner wrote),
//     wait for the server to process the analysis, read the gate's verdict;
//   local: evaluate the same kind of conditions from reports on disk (lcov, ESLint JSON, Jest JSON,
//     jscpd JSON), for teams without a Sonar server.
// Both end the same way: every condition as a table in the log and the run summary, the outputs
// `status` / `conditions` (/ `dashboard-url`), and a failed step when the gate says ERROR.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import * as z from 'zod';
import { defineStep, type StepContext } from '@shipgate/protocol';
import { ShipgateError, ExitCode } from '@shipgate/protocol';
import { parseDuration } from '@shipgate/protocol';
import { durationInput } from '@shipgate/protocol';
import type { GateResult } from './conditions.js';
import { renderConditionsMarkdown, renderConditionsText } from './table.js';
import { parseProperties, readReportTask } from './properties.js';
import { analysisProperties, defaultScannerCommand, runScanner } from './scanner.js';
import { waitForQualityGate } from './sonar-client.js';
import { collectLocalMeasures, evaluateLocalGate, localGateSchema } from './local/gate.js';

const duration = durationInput;

const propertyValue = z.union([z.string(), z.number(), z.boolean()]).transform(String);

export const qualityGateInputs = z
  .strictObject({
    mode: z.enum(['sonar', 'local']).optional().describe('sonar (a SonarQube / SonarCloud server) or local (reports on disk); default: local when `local` is set, else sonar'),
    local: localGateSchema.optional().describe('thresholds of the local gate (coverage, eslint, tests, duplication)'),
    'host-url': z.string().min(1).optional().describe('Sonar server URL; default $SONAR_HOST_URL, then sonar.host.url of the properties'),
    'token-env': z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/)
      .default('SONAR_TOKEN')
      .describe('name of the environment variable that holds the token (never the token itself)'),
    properties: z.record(z.string(), propertyValue).default({}).describe('analysis properties (-D), over sonar-project.properties, e.g. { sonar.projectKey: orders }'),
    'project-properties': z.string().min(1).default('sonar-project.properties').describe('properties file read for the analysis (optional)'),
    'ci-parameters': z.boolean().default(true).describe('add sonar.branch.name / sonar.pullrequest.* from the CI context (turn off for Community Edition servers)'),
    scanner: z
      .strictObject({ command: z.string().min(1), args: z.array(z.string()).default([]) })
      .optional()
      .describe('the scanner to run; default: the sonarqube-scanner package with this Node'),
    'report-task': z.string().min(1).optional().describe('skip the scan: wait for the analysis this report-task.txt names (Maven / Gradle / .NET scanners)'),
    timeout: duration.default('5m').describe('how long to wait for the server to process the analysis'),
    'poll-interval': duration.default('1s').describe('first poll interval; it backs off (with jitter) up to 10 s'),
  })
  .superRefine((v, ctx) => {
    if (v.mode === 'local' && !v.local) ctx.addIssue({ code: 'custom', path: ['local'], message: 'mode: local needs a `local:` block of thresholds' });
    if (v.mode === 'sonar' && v.local) ctx.addIssue({ code: 'custom', path: ['mode'], message: '`local:` thresholds are only read in mode: local' });
    if (v.scanner && v['report-task']) ctx.addIssue({ code: 'custom', path: ['report-task'], message: 'report-task skips the scan, so scanner is never run: set one of them' });
  });

export type QualityGateInputs = z.output<typeof qualityGateInputs>;

/** Logs the table, writes the summary and the outputs; fails the step on ERROR. */
function report(ctx: StepContext<QualityGateInputs>, result: GateResult): void {
  for (const line of renderConditionsText(result)) (result.status === 'ERROR' ? ctx.logger.error : ctx.logger.info)(line);
  ctx.summary(renderConditionsMarkdown(result));
  ctx.setOutput('status', result.status);
  ctx.setOutput('conditions', JSON.stringify(result.conditions));
  if (result.dashboardUrl) ctx.setOutput('dashboard-url', result.dashboardUrl);
  if (result.status === 'ERROR') {
    const failed = result.conditions.filter((c) => c.status === 'ERROR').map((c) => c.metric);
    throw new ShipgateError('quality-gate.failed', `quality gate failed${failed.length > 0 ? `: ${failed.join(', ')}` : ''}`, {
      exitCode: ExitCode.failed,
      hint: result.dashboardUrl ? `see ${result.dashboardUrl}` : 'see the conditions table above',
    });
  }
}

async function readProjectProperties(file: string): Promise<Record<string, string>> {
  try {
    return parseProperties(await readFile(file, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw error;
  }
}

async function runSonarGate(ctx: StepContext<QualityGateInputs>): Promise<GateResult | undefined> {
  const { inputs } = ctx;
  const token = ctx.env[inputs['token-env']] || undefined;
  if (token) ctx.setSecret(token);
  else ctx.logger.warn(`sonar: $${inputs['token-env']} is not set; calling the server without a token`);
  const file = await readProjectProperties(path.resolve(ctx.cwd, inputs['project-properties']));
  if (file['sonar.token'] || file['sonar.login']) ctx.logger.warn(`sonar: ${inputs['project-properties']} holds a token; keep it in the ${inputs['token-env']} secret instead`);
  // `||`: an empty SONAR_HOST_URL (an unset CI variable) must not hide the properties file's URL
  const hostUrl = inputs['host-url'] || inputs.properties['sonar.host.url'] || ctx.env.SONAR_HOST_URL || file['sonar.host.url'] || undefined;

  let reportTaskFile: string;
  if (inputs['report-task']) {
    reportTaskFile = path.resolve(ctx.cwd, inputs['report-task']);
  } else {
    if (!hostUrl) {
      throw new ShipgateError('quality-gate.no-server', 'no Sonar server: set SONAR_HOST_URL, host-url (shipgate gate --host-url) or sonar.host.url', {
        hint: 'for SonarCloud: https://sonarcloud.io (and sonar.organization); without a server, use the local gate (with: { local: … })',
      });
    }
    if (String(inputs.properties['sonar.qualitygate.wait'] ?? file['sonar.qualitygate.wait']) === 'true') {
      ctx.logger.warn('sonar: sonar.qualitygate.wait=true makes the scanner itself fail on a failing gate, without the conditions table; shipgate waits for the gate anyway');
    }
    const properties = analysisProperties({ file, given: inputs.properties, ci: ctx.ci, env: ctx.env, hostUrl, ciParameters: inputs['ci-parameters'] });
    const scanner = inputs.scanner ?? defaultScannerCommand();
    const scanned = await runScanner({ process: ctx.process, logger: ctx.logger, cwd: ctx.cwd, command: scanner.command, args: scanner.args, properties, ...(token ? { token } : {}) });
    if ('killed' in scanned) return undefined; // cancelled or timed out: the engine reports it
    reportTaskFile = scanned.reportTask;
  }
  const reportTask = await readReportTask(reportTaskFile, path.relative(ctx.cwd, reportTaskFile) || reportTaskFile);
  // the URL this job reaches the server by wins over the one the scanner wrote (it may have run
  // elsewhere, or behind another name)
  const serverUrl = inputs['host-url'] || ctx.env.SONAR_HOST_URL || reportTask.serverUrl;
  ctx.logger.info(`sonar: waiting for analysis task ${reportTask.ceTaskId} on ${serverUrl}`);
  let last = '';
  return waitForQualityGate({
    reportTask,
    serverUrl,
    ...(token ? { token } : {}),
    timeoutMs: parseDuration(inputs.timeout),
    pollIntervalMs: parseDuration(inputs['poll-interval']),
    signal: ctx.signal,
    onPoll: (task) => {
      if (task.status !== last) ctx.logger.info(`sonar: analysis ${task.status.toLowerCase().replace('_', ' ')}`);
      last = task.status;
    },
  });
}

export const qualityGateStep = defineStep({
  name: 'quality-gate',
  description: 'Waits for a SonarQube / SonarCloud quality gate (running the scanner), or evaluates a local gate from lcov, ESLint, Jest and jscpd reports.',
  inputs: qualityGateInputs,
  outputs: {
    status: 'OK or ERROR',
    'dashboard-url': 'the analysis on the Sonar server (sonar mode)',
    conditions: 'JSON array of { metric, actual, operator, threshold, status }',
  },
  async run(ctx) {
    const local = ctx.inputs.mode === 'local' || (ctx.inputs.mode === undefined && ctx.inputs.local !== undefined);
    if (local) {
      const config = ctx.inputs.local!;
      const measures = await collectLocalMeasures(config, {
        cwd: ctx.cwd,
        ci: ctx.ci,
        env: ctx.env,
        process: ctx.process,
        onBase: (base, mergeBase, files) => ctx.logger.info(`local gate: ${files} file(s) changed since ${base} (merge-base ${mergeBase.slice(0, 12)})`),
      });
      report(ctx, evaluateLocalGate(config, measures));
      return;
    }
    const result = await runSonarGate(ctx);
    if (result) report(ctx, result);
  },
});

/**
 * The exit code each of this step's error codes means for `shipgate gate` (the executor's result
 * carries the code, not the exit code): 1 the gate (or the scan) failed, 2 the input was wrong,
 * 3 the server, the token or the network failed.
 */
export const gateErrorExitCodes: Readonly<Record<string, number>> = {
  'quality-gate.failed': ExitCode.failed,
  'quality-gate.scanner-failed': ExitCode.failed,
  'quality-gate.git-diff': ExitCode.failed,
  'step.inputs': ExitCode.usage,
  'quality-gate.no-server': ExitCode.usage,
  'quality-gate.bad-server-url': ExitCode.usage,
  'quality-gate.token-in-properties': ExitCode.usage,
  'quality-gate.report-task-missing': ExitCode.usage,
  'quality-gate.report-task-invalid': ExitCode.usage,
  'quality-gate.report-missing': ExitCode.usage,
  'quality-gate.report-invalid': ExitCode.usage,
  'quality-gate.base-ref': ExitCode.usage,
  'quality-gate.not-a-repository': ExitCode.usage,
  'quality-gate.analysis-failed': ExitCode.external,
  'quality-gate.analysis-canceled': ExitCode.external,
  'quality-gate.unauthorized': ExitCode.external,
  'quality-gate.forbidden': ExitCode.external,
  'quality-gate.not-found': ExitCode.external,
  'quality-gate.unreachable': ExitCode.external,
  'quality-gate.server-error': ExitCode.external,
  'quality-gate.bad-request': ExitCode.external,
  'quality-gate.bad-response': ExitCode.external,
  'quality-gate.timeout': ExitCode.external,
};
