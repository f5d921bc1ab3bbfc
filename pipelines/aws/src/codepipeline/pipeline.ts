// Starting, following, stopping, approving and rolling back AWS CodePipeline executions. Every
// request goes through `awsCall` (bounded retries, the AbortSignal), every wait through `pollUntil`.
// Loaded lazily (by the step's run and by the exported functions), with the SDK.
import type { CodePipelineClient, ActionExecutionDetail, PipelineExecutionSummary, StageState } from '@aws-sdk/client-codepipeline';
import { ExitCode, ShipgateError } from '@shipgate/protocol';
import { awsCall, awsClient, consoleUrl, pollUntil, type AwsCallerOptions, type SendOptions } from '../sdk/index.js';
import { chooseStageRollbackTarget, describeChanges, describeFailedActions, executionSnapshot, findApproval, terminalExecutionStatuses } from './decisions.js';

export interface CodePipelineOptions extends AwsCallerOptions {
  client?: CodePipelineClient | undefined;
}

export interface FollowOptions {
  /** Stop the execution after this long. Default 1 h. */
  timeoutMs?: number | undefined;
  /** Time between checks. Default 15 s. */
  pollIntervalMs?: number | undefined;
  /** On timeout / cancel: abandon in-progress actions instead of letting them finish. Default false. */
  abandon?: boolean | undefined;
}

export interface ExecutionResult {
  pipeline: string;
  pipelineExecutionId: string;
  /** Succeeded, Failed, Stopped, Stopping, Cancelled or Superseded. */
  status: string;
  timedOut: boolean;
  /** `Deploy/CodeDeploy failed: …` lines of the failed actions. */
  failures: string[];
  url: string;
}

type Sdk = typeof import('@aws-sdk/client-codepipeline');
interface Session {
  sdk: Sdk;
  client: CodePipelineClient;
  region: string;
  pipeline: string;
  arn: string;
  options: CodePipelineOptions;
  log: (line: string) => void;
}

async function openSession(pipeline: string, options: CodePipelineOptions): Promise<Session> {
  const sdk = await import('@aws-sdk/client-codepipeline');
  const { client, region } = await awsClient(options.client, (config) => new sdk.CodePipelineClient(config), options, options.env ?? process.env);
  return { sdk, client, region, pipeline, arn: `arn:aws:codepipeline:${region}:*:${pipeline}`, options, log: options.log ?? (() => {}) };
}

const pipelineErrors = (pipeline: string): Record<string, (e: unknown) => ShipgateError> => ({
  PipelineNotFoundException: () => new ShipgateError('codepipeline.unknown-pipeline', `pipeline "${pipeline}" does not exist in this region`, { hint: 'check `pipeline` and `region` (aws codepipeline list-pipelines)' }),
});

function call<T>(s: Session, action: string, send: (o: SendOptions) => Promise<T>, errors: Record<string, (e: unknown) => ShipgateError> = {}, signal = s.options.signal): Promise<T> {
  return awsCall(send, {
    action: `codepipeline:${action}`,
    resource: s.arn,
    signal,
    retry: s.options.retry,
    breaker: s.options.breaker,
    errors: { ...pipelineErrors(s.pipeline), ...errors },
    onRetry: (n, e, ms) => s.log(`${action}: ${(e as Error).name ?? 'error'}, retry ${n} in ${Math.round(ms)} ms`),
  });
}

async function pipelineState(s: Session): Promise<StageState[]> {
  const state = await call(s, 'GetPipelineState', (o) => s.client.send(new s.sdk.GetPipelineStateCommand({ name: s.pipeline }), o));
  return state.stageStates ?? [];
}

async function actionExecutions(s: Session, executionId: string): Promise<ActionExecutionDetail[]> {
  const out = await call(s, 'ListActionExecutions', (o) => s.client.send(new s.sdk.ListActionExecutionsCommand({ pipelineName: s.pipeline, filter: { pipelineExecutionId: executionId }, maxResults: 100 }), o));
  return out.actionExecutionDetails ?? [];
}

async function stopExecution(s: Session, executionId: string, reason: string, abandon: boolean): Promise<void> {
  // Our own signal may be why we stop (cancel): the stop request gets its own deadline.
  const signal = AbortSignal.timeout(20_000);
  const already = (what: string) => () => new ShipgateError('codepipeline.not-stoppable', what, { exitCode: ExitCode.failed });
  try {
    await call(s, 'StopPipelineExecution', (o) => s.client.send(new s.sdk.StopPipelineExecutionCommand({ pipelineName: s.pipeline, pipelineExecutionId: executionId, abandon, reason: reason.slice(0, 200) }), o), {
      PipelineExecutionNotStoppableException: already('it already finished'),
      DuplicatedStopRequestException: already('a stop was already requested'),
    }, signal);
    s.log(`${executionId}: stop requested (${reason})${abandon ? ', abandoning in-progress actions' : ', letting in-progress actions finish'}`);
  } catch (error) {
    s.log(`${executionId}: not stopped: ${(error as Error).message}`);
    if (!(error instanceof ShipgateError && error.code === 'codepipeline.not-stoppable')) throw error;
  }
}

/** Follows one execution stage by stage to its end; stops it on timeout and on cancel. */
async function followExecution(s: Session, executionId: string, follow: FollowOptions, stop = true): Promise<ExecutionResult> {
  const timeoutMs = follow.timeoutMs ?? 3_600_000;
  let seen = new Map<string, string>();
  let lastStatus: string | undefined;
  const url = consoleUrl(s.region, `codesuite/codepipeline/pipelines/${s.pipeline}/executions/${executionId}/timeline`);
  const check = async (): Promise<string | undefined> => {
    const out = await call(s, 'GetPipelineExecution', (o) => s.client.send(new s.sdk.GetPipelineExecutionCommand({ pipelineName: s.pipeline, pipelineExecutionId: executionId }), o), {
      PipelineExecutionNotFoundException: () => new ShipgateError('codepipeline.unknown-execution', `pipeline ${s.pipeline} has no execution ${executionId}`, { hint: 'check the execution id' }),
    });
    const status = out.pipelineExecution?.status ?? 'Unknown';
    if (status !== lastStatus) s.log(`${s.pipeline} ${executionId}: ${status}${out.pipelineExecution?.statusSummary ? ` — ${out.pipelineExecution.statusSummary}` : ''}`);
    lastStatus = status;
    const stages = await pipelineState(s);
    for (const line of describeChanges(stages, executionId, seen)) s.log(line);
    seen = executionSnapshot(stages, executionId);
    return terminalExecutionStatuses.has(status) ? status : undefined;
  };
  let outcome;
  try {
    outcome = await pollUntil(check, { intervalMs: follow.pollIntervalMs ?? 15_000, timeoutMs, clock: s.options.clock, signal: s.options.signal });
  } catch (error) {
    if (s.options.signal?.aborted) {
      if (stop) await stopExecution(s, executionId, 'shipgate run cancelled', follow.abandon ?? false).catch(() => {});
      else s.log(`${executionId}: no longer followed (cancelled); it goes on in CodePipeline`);
      throw s.options.signal.reason;
    }
    throw error;
  }
  if (outcome.timedOut && !stop) {
    s.log(`${executionId}: not finished after ${Math.round(timeoutMs / 1000)} s; it goes on in CodePipeline`);
    return { pipeline: s.pipeline, pipelineExecutionId: executionId, status: lastStatus ?? 'InProgress', timedOut: true, failures: [], url };
  }
  if (outcome.timedOut) {
    await stopExecution(s, executionId, `shipgate: not finished after ${Math.round(timeoutMs / 1000)} s`, follow.abandon ?? false);
    return { pipeline: s.pipeline, pipelineExecutionId: executionId, status: 'Stopping', timedOut: true, failures: [], url };
  }
  const failures = outcome.value === 'Failed' ? describeFailedActions(await actionExecutions(s, executionId)) : [];
  for (const line of failures) s.log(line);
  return { pipeline: s.pipeline, pipelineExecutionId: executionId, status: outcome.value, timedOut: false, failures, url };
}

export interface StartRequest extends CodePipelineOptions, FollowOptions {
  pipeline: string;
  /** Pipeline-level variables (V2 pipelines). */
  variables?: Record<string, string> | undefined;
  /** Idempotency: the same token within the execution's lifetime starts nothing new. */
  clientRequestToken?: string | undefined;
  /** Follow the execution to its end (default) or return once it started. */
  wait?: boolean | undefined;
}

/** StartPipelineExecution, then (unless `wait: false`) follow it to its end. */
export async function startCodePipeline(request: StartRequest): Promise<ExecutionResult> {
  const s = await openSession(request.pipeline, request);
  const started = await call(s, 'StartPipelineExecution', (o) =>
    s.client.send(
      new s.sdk.StartPipelineExecutionCommand({
        name: request.pipeline,
        ...(request.variables && Object.keys(request.variables).length ? { variables: Object.entries(request.variables).map(([name, value]) => ({ name, value })) } : {}),
        ...(request.clientRequestToken ? { clientRequestToken: request.clientRequestToken } : {}),
      }),
      o,
    ),
    {
      ConcurrentPipelineExecutionsLimitExceededException: () =>
        new ShipgateError('codepipeline.too-many-executions', `pipeline ${request.pipeline} is at its limit of concurrent executions`, { exitCode: ExitCode.failed, hint: 'wait for a running execution to finish, or stop one' }),
    },
  );
  const id = started.pipelineExecutionId;
  if (!id) throw new ShipgateError('codepipeline.no-id', 'StartPipelineExecution returned no execution id', { exitCode: ExitCode.external });
  const url = consoleUrl(s.region, `codesuite/codepipeline/pipelines/${request.pipeline}/executions/${id}/timeline`);
  s.log(`${request.pipeline}: started execution ${id} — ${url}`);
  if (request.wait === false) return { pipeline: request.pipeline, pipelineExecutionId: id, status: 'InProgress', timedOut: false, failures: [], url };
  return followExecution(s, id, request);
}

export interface ApprovalRequest extends CodePipelineOptions {
  pipeline: string;
  stage: string;
  action: string;
  approved: boolean;
  /** Shown in CodePipeline next to the decision (at most 512 characters). */
  summary?: string | undefined;
}

export interface ApprovalAnswer {
  pipeline: string;
  stage: string;
  action: string;
  status: 'Approved' | 'Rejected';
  approvedAt?: Date | undefined;
  pipelineExecutionId?: string | undefined;
}

/**
 * Approves or rejects the manual-approval action waiting at pipeline/stage/action. The token comes
 * from GetPipelineState; in PARALLEL-mode pipelines, where GetPipelineState has none, from the
 * in-progress action's ListActionExecutions entry. What the Slack app's Approve / Reject buttons call.
 */
export async function answerCodePipelineApproval(request: ApprovalRequest): Promise<ApprovalAnswer> {
  const s = await openSession(request.pipeline, request);
  const where = `${request.pipeline}/${request.stage}/${request.action}`;
  const stages = await pipelineState(s);
  let found = findApproval(request.pipeline, stages, request.stage, request.action);
  if (!found.open && found.code === 'not-waiting') {
    const stage = stages.find((st) => st.stageName === request.stage);
    const executionId = stage?.latestExecution?.pipelineExecutionId;
    const latest = stage?.actionStates?.find((a) => a.actionName === request.action)?.latestExecution;
    if (executionId && latest?.status === 'InProgress') {
      const detail = (await actionExecutions(s, executionId)).find((d) => d.stageName === request.stage && d.actionName === request.action && d.status === 'InProgress');
      const token = detail?.output?.executionResult?.externalExecutionId;
      if (token) found = { open: true, token, pipelineExecutionId: executionId };
    }
  }
  if (!found.open) {
    throw new ShipgateError(`codepipeline.${found.code === 'not-waiting' ? 'no-pending-approval' : found.code}`, found.message, { exitCode: found.code === 'not-waiting' ? ExitCode.failed : ExitCode.usage, hint: found.hint });
  }
  const status = request.approved ? 'Approved' : 'Rejected';
  const summary = (request.summary ?? `${status} with shipgate`).slice(0, 512);
  const out = await call(
    s,
    'PutApprovalResult',
    (o) => s.client.send(new s.sdk.PutApprovalResultCommand({ pipelineName: request.pipeline, stageName: request.stage, actionName: request.action, token: found.token, result: { status, summary } }), o),
    {
      ApprovalAlreadyCompletedException: () =>
        new ShipgateError('codepipeline.approval-already-answered', `the approval at ${where} was already answered`, { exitCode: ExitCode.failed, hint: 'someone approved or rejected it first; see the pipeline in the CodePipeline console' }),
      InvalidApprovalTokenException: () =>
        new ShipgateError('codepipeline.approval-expired', `the approval at ${where} is no longer open: its token expired or a newer execution replaced it`, {
          exitCode: ExitCode.failed,
          hint: 'approvals expire after 7 days; start the pipeline again for a new approval',
        }),
      ActionNotFoundException: () => new ShipgateError('codepipeline.unknown-action', `stage ${request.stage} of ${request.pipeline} has no action "${request.action}"`, { hint: 'check `action`' }),
      StageNotFoundException: () => new ShipgateError('codepipeline.unknown-stage', `pipeline ${request.pipeline} has no stage "${request.stage}"`, { hint: 'check `stage`' }),
    },
  );
  s.log(`${where}: ${status.toLowerCase()}${found.pipelineExecutionId ? ` (execution ${found.pipelineExecutionId})` : ''}`);
  return { pipeline: request.pipeline, stage: request.stage, action: request.action, status, approvedAt: out.approvedAt, pipelineExecutionId: found.pipelineExecutionId };
}

export interface StageRollbackRequest extends CodePipelineOptions, FollowOptions {
  pipeline: string;
  stage: string;
  /** Roll back to this execution instead of choosing one. */
  targetExecutionId?: string | undefined;
  wait?: boolean | undefined;
}

export interface StageRollbackResult extends ExecutionResult {
  stage: string;
  fromExecutionId: string | undefined;
  targetExecutionId: string;
  message: string;
}

/** Executions of the pipeline, newest first as listed (at most 200). */
async function listExecutions(s: Session): Promise<PipelineExecutionSummary[]> {
  const all: PipelineExecutionSummary[] = [];
  let nextToken: string | undefined;
  for (let page = 0; page < 2; page += 1) {
    const out = await call(s, 'ListPipelineExecutions', (o) => s.client.send(new s.sdk.ListPipelineExecutionsCommand({ pipelineName: s.pipeline, maxResults: 100, ...(nextToken ? { nextToken } : {}) }), o));
    all.push(...(out.pipelineExecutionSummaries ?? []));
    nextToken = out.nextToken;
    if (!nextToken) break;
  }
  return all;
}

/** RollbackStage to the newest earlier succeeded execution (or the one named), then follow it. */
export async function rollbackCodePipelineStage(request: StageRollbackRequest): Promise<StageRollbackResult> {
  const s = await openSession(request.pipeline, request);
  const stages = await pipelineState(s);
  const stage = stages.find((st) => st.stageName === request.stage);
  if (!stage) throw new ShipgateError('codepipeline.unknown-stage', `pipeline ${request.pipeline} has no stage "${request.stage}"`, { hint: `stages: ${stages.map((st) => st.stageName).join(', ')}` });
  const current = stage.latestExecution?.pipelineExecutionId;
  let target = request.targetExecutionId;
  if (!target) {
    const choice = chooseStageRollbackTarget(await listExecutions(s), current);
    if (!choice.found) throw new ShipgateError('codepipeline.no-rollback-target', `nothing to roll ${request.pipeline}/${request.stage} back to: ${choice.reason}`, { exitCode: ExitCode.failed, hint: 'name one with --target <execution id>' });
    target = choice.execution.pipelineExecutionId!;
  }
  const out = await call(s, 'RollbackStage', (o) => s.client.send(new s.sdk.RollbackStageCommand({ pipelineName: request.pipeline, stageName: request.stage, targetPipelineExecutionId: target }), o), {
    UnableToRollbackStageException: (e) => new ShipgateError('codepipeline.cannot-roll-back', `CodePipeline cannot roll ${request.pipeline}/${request.stage} back to ${target}: ${(e as Error).message}`, { exitCode: ExitCode.failed, hint: 'the target must be a succeeded execution of this stage, and the stage must not be running' }),
    StageNotFoundException: () => new ShipgateError('codepipeline.unknown-stage', `pipeline ${request.pipeline} has no stage "${request.stage}"`, { hint: 'check `stage`' }),
  });
  const id = out.pipelineExecutionId;
  if (!id) throw new ShipgateError('codepipeline.no-id', 'RollbackStage returned no execution id', { exitCode: ExitCode.external });
  s.log(`${request.pipeline}/${request.stage}: rolling back from ${current ?? '(unknown)'} to ${target} with execution ${id}`);
  const followed = request.wait === false ? { pipeline: request.pipeline, pipelineExecutionId: id, status: 'InProgress', timedOut: false, failures: [], url: consoleUrl(s.region, `codesuite/codepipeline/pipelines/${request.pipeline}/view`) } : await followExecution(s, id, request, false); // a half-stopped rollback helps no one: let it finish
  const message =
    followed.status === 'Succeeded' || request.wait === false
      ? `${request.wait === false ? 'rolling' : 'rolled'} ${request.pipeline}/${request.stage} back from ${current ?? '(unknown)'} to ${target} (execution ${id})`
      : `rollback of ${request.pipeline}/${request.stage} to ${target} ${followed.timedOut ? 'is still in progress after the timeout, not stopped' : followed.status.toLowerCase()} (execution ${id})`;
  return { ...followed, stage: request.stage, fromExecutionId: current, targetExecutionId: target, message };
}
