// `uses: verify` — watches a fresh deployment on Prometheus: evaluates its checks on a fixed
// schedule, prints a table of every evaluation, and decides passed / failed / inconclusive. On
// failed it rolls back through the rollbacks it was given (createVerifyStep), records the
// deployment as rolled back with the failing check, and fails the step. Never a silent pass:
// no number is inconclusive, and inconclusive fails the step unless `allow-inconclusive`.
import { defineStep, ExitCode, parseDuration, ShipgateError, type StepContext } from '@shipgate/protocol';
import { verifyInputs, type VerifyInputs } from './inputs.js';
import { PrometheusClient, prometheusAuthFromEnv } from './prometheus.js';
import { recordRolledBack } from './record.js';
import { checkRollbacksAvailable, runRollbacks, type RollbackOutcome, type Rollbacks } from './rollback.js';
import type { ScheduleOptions } from './schedule.js';
import { renderEvaluationMarkdown, renderEvaluationTable } from './table.js';
import { substituteTemplate, type TemplateVariables } from './template.js';
import { runVerification, type Evaluation, type PreparedCheck, type VerificationResult } from './verify.js';

export interface VerifyStepOptions {
  /** The rollbacks `on-failure:` may name. */
  rollbacks?: Rollbacks;
}

/** The version under test: the input, else the git tag, else the short sha. */
function versionOf(inputs: VerifyInputs, ci: StepContext<VerifyInputs>['ci']): string | undefined {
  return inputs.version ?? ci.tag ?? ci.sha?.slice(0, 12);
}

export function scheduleOf(inputs: VerifyInputs): ScheduleOptions {
  return { count: inputs.count, intervalMs: parseDuration(inputs.interval), initialDelayMs: inputs['initial-delay'] ? parseDuration(inputs['initial-delay']) : 0, failureLimit: inputs['failure-limit'], inconclusiveLimit: inputs['inconclusive-limit'] };
}

/** Checks with their queries filled in (and the baseline's, with the previous version). */
export function prepareChecks(inputs: VerifyInputs, version: string | undefined): PreparedCheck[] {
  const variables: TemplateVariables = { ...inputs.variables, version, environment: inputs.environment, service: inputs.service };
  const baselineVariables: TemplateVariables = { ...variables, version: inputs['baseline-version'] };
  return inputs.checks.map((check) => ({
    name: check.name,
    query: substituteTemplate(check.query, variables),
    max: check.max,
    min: check.min,
    range: check.range,
    baseline: check.baseline,
    baselineQuery: check.baseline ? substituteTemplate(check.query, baselineVariables) : undefined,
  }));
}

function evaluationLine(e: Evaluation): string {
  const parts = e.checks.map((c) => `${c.name}=${c.value === undefined ? '—' : Number(c.value.toPrecision(4))} ${c.status}${c.status !== 'pass' && c.reason ? ` (${c.reason})` : ''}`);
  return `evaluation ${e.index} at ${(e.atMs / 1000).toFixed(1)}s: ${e.status} — ${parts.join(', ')}`;
}

function report(ctx: StepContext<VerifyInputs>, result: VerificationResult): void {
  ctx.logger.info(`verdict: ${result.verdict} after ${result.state.evaluations} evaluation(s)\n${renderEvaluationTable(result.evaluations)}`);
  ctx.summary(renderEvaluationMarkdown(`verify ${ctx.stepId}`, result));
  ctx.setOutput('verdict', result.verdict);
  ctx.setOutput('evaluations', String(result.state.evaluations));
  ctx.setOutput('failing-check', result.failing?.name ?? '');
}

async function rollBack(ctx: StepContext<VerifyInputs>, rollbacks: Rollbacks, result: VerificationResult, version: string | undefined): Promise<RollbackOutcome[]> {
  const outcomes = await runRollbacks(ctx.inputs['on-failure'], rollbacks, { env: ctx.env, signal: ctx.signal, log: (line) => ctx.logger.info(line) }, ctx.inputs.environment);
  for (const o of outcomes) {
    if (o.ok) ctx.logger.info(`rollback ${o.kind}: ${o.message}`);
    else ctx.logger.error(`rollback ${o.kind}: FAILED: ${o.message}`);
  }
  ctx.setOutput('rolled-back', outcomes.some((o) => o.ok) ? 'true' : 'false');
  if (outcomes.length) await recordRolledBack(ctx, version ?? 'unknown', result.failing, outcomes).catch((error: Error) => ctx.logger.warn(`the rollback is not recorded: ${error.message}`));
  return outcomes;
}

function verdictError(result: VerificationResult, outcomes: readonly RollbackOutcome[]): ShipgateError {
  const failing = result.failing ? `check "${result.failing.name}": ${result.failing.reason} (evaluation ${result.failing.evaluation})` : '';
  if (result.verdict === 'inconclusive') {
    return new ShipgateError('verify.inconclusive', `verification inconclusive after ${result.state.evaluations} evaluation(s): ${failing}`, {
      exitCode: ExitCode.failed,
      hint: 'no number is not a pass: is Prometheus reachable, and does each query give one series? `allow-inconclusive: true` lets it through',
    });
  }
  const rolled = outcomes.length ? `; ${outcomes.map((o) => `${o.kind} ${o.ok ? 'rolled back' : 'rollback failed'}`).join(', ')}` : '; nothing rolled back (no on-failure)';
  return new ShipgateError('verify.failed', `verification failed: ${failing}${rolled}`, { exitCode: ExitCode.failed, hint: 'the table above has every check per evaluation' });
}

async function run(ctx: StepContext<VerifyInputs>, rollbacks: Rollbacks): Promise<void> {
  const { inputs } = ctx;
  checkRollbacksAvailable(inputs['on-failure'], rollbacks);
  const auth = prometheusAuthFromEnv(ctx.env);
  for (const secret of auth?.secrets ?? []) ctx.setSecret(secret);
  const version = versionOf(inputs, ctx.ci);
  const checks = prepareChecks(inputs, version);
  const client = new PrometheusClient({ url: inputs.prometheus, auth, timeoutMs: parseDuration(inputs['query-timeout']) });
  const schedule = scheduleOf(inputs);
  ctx.logger.info(`verifying ${checks.length} check(s) on ${inputs.prometheus}: ${schedule.count} evaluation(s) every ${inputs.interval} after ${inputs['initial-delay'] ?? 'no delay'}, failure-limit ${schedule.failureLimit}, inconclusive-limit ${schedule.inconclusiveLimit}`);
  const result = await runVerification(checks, schedule, { query: (q, signal) => client.query(q, signal), signal: ctx.signal, onEvaluation: (e) => ctx.logger.info(evaluationLine(e)) });
  report(ctx, result);
  if (result.verdict === 'passed') return;
  if (result.verdict === 'inconclusive') {
    if (inputs['allow-inconclusive']) return ctx.logger.warn('verdict inconclusive, let through by allow-inconclusive');
    throw verdictError(result, []);
  }
  throw verdictError(result, await rollBack(ctx, rollbacks, result, version));
}

const outputs = {
  verdict: '`passed`, `failed` or `inconclusive`.',
  'failing-check': 'The check that decided a failed or inconclusive verdict (empty when passed).',
  evaluations: 'How many evaluations ran.',
  'rolled-back': '`true` when a rollback ran and succeeded (set only on failed).',
};

/** The verify step with the rollbacks `on-failure:` may use (the CLI passes CodeDeploy, image and CodePipeline). */
export function createVerifyStep(options: VerifyStepOptions = {}) {
  const rollbacks = options.rollbacks ?? {};
  return defineStep({
    name: 'verify',
    description: 'Judge a fresh deployment on Prometheus checks over a bake time; roll back by itself when it fails.',
    inputs: verifyInputs,
    outputs,
    run: (ctx) => run(ctx, rollbacks),
  });
}

/** The verify step without rollbacks: it fails before evaluating when `on-failure:` names one. */
export const verifyStep = createVerifyStep();
