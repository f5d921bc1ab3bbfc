// Pure readings of CodePipeline's answers: what moved between two GetPipelineState snapshots, which
// manual approval is open, and which execution a stage rolls back to. Table-tested.
import type { ActionExecutionDetail, PipelineExecutionSummary, StageState } from '@aws-sdk/client-codepipeline';

export const terminalExecutionStatuses = new Set(['Succeeded', 'Failed', 'Stopped', 'Cancelled', 'Superseded']);

/** `stage` or `stage/action` → status, for the stages this execution is running or ran. */
export function executionSnapshot(stages: readonly StageState[], executionId: string): Map<string, string> {
  const snapshot = new Map<string, string>();
  for (const stage of stages) {
    if (stage.latestExecution?.pipelineExecutionId !== executionId || !stage.stageName) continue;
    snapshot.set(stage.stageName, stage.latestExecution.status ?? 'Unknown');
    for (const action of stage.actionStates ?? []) {
      if (action.actionName && action.latestExecution?.status) snapshot.set(`${stage.stageName}/${action.actionName}`, action.latestExecution.status);
    }
  }
  return snapshot;
}

/** Progress lines for what changed since `before` (in pipeline order). */
export function describeChanges(stages: readonly StageState[], executionId: string, before: ReadonlyMap<string, string>): string[] {
  const lines: string[] = [];
  for (const stage of stages) {
    if (stage.latestExecution?.pipelineExecutionId !== executionId || !stage.stageName) continue;
    const status = stage.latestExecution.status ?? 'Unknown';
    if (before.get(stage.stageName) !== status) lines.push(`stage ${stage.stageName}: ${status}`);
    for (const action of stage.actionStates ?? []) {
      const latest = action.latestExecution;
      const key = `${stage.stageName}/${action.actionName}`;
      if (!latest?.status || before.get(key) === latest.status) continue;
      const waiting = latest.status === 'InProgress' && latest.token ? ' — waiting for a manual approval' : '';
      const detail = latest.errorDetails?.message ? ` — ${latest.errorDetails.code ? `${latest.errorDetails.code}: ` : ''}${latest.errorDetails.message}` : latest.summary ? ` — ${latest.summary}` : '';
      const url = latest.externalExecutionUrl ? ` (${latest.externalExecutionUrl})` : '';
      lines.push(`  ${key}: ${latest.status}${waiting}${detail}${url}`);
    }
  }
  return lines;
}

/** Failed actions of an execution from ListActionExecutions, as lines. */
export function describeFailedActions(details: readonly ActionExecutionDetail[]): string[] {
  return details
    .filter((d) => d.status === 'Failed')
    .map((d) => {
      const result = d.output?.executionResult;
      const error = result?.errorDetails;
      const why = error?.message ? `${error.code ? `${error.code}: ` : ''}${error.message}` : (result?.externalExecutionSummary ?? 'no details');
      return `${d.stageName}/${d.actionName} failed: ${why}${result?.externalExecutionUrl ? ` (${result.externalExecutionUrl})` : ''}`;
    });
}

export type ApprovalLookup =
  | { open: true; token: string; pipelineExecutionId: string | undefined }
  | { open: false; code: 'unknown-stage' | 'unknown-action' | 'not-waiting'; message: string; hint: string };

/** The open approval at `stage`/`action` from GetPipelineState, or why there is none. */
export function findApproval(pipeline: string, stages: readonly StageState[], stageName: string, actionName: string): ApprovalLookup {
  const stage = stages.find((s) => s.stageName === stageName);
  if (!stage) {
    return { open: false, code: 'unknown-stage', message: `pipeline ${pipeline} has no stage "${stageName}"`, hint: `stages: ${stages.map((s) => s.stageName).join(', ') || '(none)'}` };
  }
  const action = stage.actionStates?.find((a) => a.actionName === actionName);
  if (!action) {
    return { open: false, code: 'unknown-action', message: `stage ${stageName} of ${pipeline} has no action "${actionName}"`, hint: `actions: ${(stage.actionStates ?? []).map((a) => a.actionName).join(', ') || '(none)'}` };
  }
  const latest = action.latestExecution;
  if (latest?.status === 'InProgress' && latest.token) return { open: true, token: latest.token, pipelineExecutionId: stage.latestExecution?.pipelineExecutionId };
  const state = latest?.status ? `its latest execution is ${latest.status}${latest.lastUpdatedBy ? ` (by ${latest.lastUpdatedBy})` : ''}` : 'it has never run';
  return { open: false, code: 'not-waiting', message: `no approval is waiting at ${pipeline}/${stageName}/${actionName}: ${state}`, hint: 'approvals can only be answered while the action is In progress' };
}

export type StageRollbackChoice = { found: true; execution: PipelineExecutionSummary } | { found: false; reason: string };

const started = (e: PipelineExecutionSummary | undefined) => e?.startTime?.getTime() ?? 0;

/**
 * The execution a stage rolls back to: the newest Succeeded standard execution that started before
 * the one the stage runs now — or, when that one is itself a rollback, before the execution it
 * rolled back to (so a second rollback goes further back instead of returning to the bad one).
 */
export function chooseStageRollbackTarget(executions: readonly PipelineExecutionSummary[], currentExecutionId: string | undefined): StageRollbackChoice {
  const current = executions.find((e) => e.pipelineExecutionId === currentExecutionId);
  const rolledBackTo = current?.executionType === 'ROLLBACK' ? current.rollbackMetadata?.rollbackTargetPipelineExecutionId : undefined;
  const reference = rolledBackTo ? (executions.find((e) => e.pipelineExecutionId === rolledBackTo) ?? current) : current;
  const exclude = new Set([currentExecutionId, rolledBackTo].filter(Boolean));
  const candidates = executions
    .filter((e) => e.status === 'Succeeded' && e.executionType !== 'ROLLBACK' && !exclude.has(e.pipelineExecutionId))
    .filter((e) => !reference || started(e) < started(reference))
    .sort((a, b) => started(b) - started(a));
  const execution = candidates[0];
  if (execution) return { found: true, execution };
  return { found: false, reason: reference ? `no execution before ${reference.pipelineExecutionId} succeeded` : 'no execution of the pipeline succeeded' };
}
