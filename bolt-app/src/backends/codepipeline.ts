// AWS CodePipeline: answer a manual approval action with PutApprovalResult. The approval token
// is read from GetPipelineState (the action's latest execution); when the action is no longer
// in progress, someone already answered it or it timed out, and there is nothing to tell.
import { CodePipelineClient, GetPipelineStateCommand, PutApprovalResultCommand } from '@aws-sdk/client-codepipeline';
import type { ApprovalBackend } from '../approvals/model.js';
import { BackendError, type BackendResult, type DecisionBackend } from './types.js';

export type CodePipelineClientFactory = (region: string | undefined) => CodePipelineClient;

const clients = new Map<string, CodePipelineClient>();

/** One client per region, with the SDK's own retries (standard mode, 3 attempts). */
export const defaultCodePipelineClient: CodePipelineClientFactory = (region) => {
  const key = region ?? '';
  let client = clients.get(key);
  if (!client) {
    client = new CodePipelineClient({ ...(region ? { region } : {}), maxAttempts: 3 });
    clients.set(key, client);
  }
  return client;
};

const alreadyAnswered = new Set(['ApprovalAlreadyCompletedException', 'InvalidApprovalTokenException', 'ActionNotFoundException']);

export function codePipelineDecisionBackend(clientFor: CodePipelineClientFactory = defaultCodePipelineClient): DecisionBackend<'codepipeline'> {
  return async (backend: Extract<ApprovalBackend, { kind: 'codepipeline' }>, _approval, notice): Promise<BackendResult> => {
    const client = clientFor(backend.region);
    const where = `${backend.pipeline}/${backend.stage}/${backend.action}`;
    try {
      const state = await client.send(new GetPipelineStateCommand({ name: backend.pipeline }), { abortSignal: notice.signal });
      const action = state.stageStates?.find((s) => s.stageName === backend.stage)?.actionStates?.find((a) => a.actionName === backend.action);
      if (!action) throw new BackendError(`CodePipeline ${where}: no such stage or action`, false);
      const token = action.latestExecution?.token;
      if (action.latestExecution?.status !== 'InProgress' || !token) return { detail: `CodePipeline ${where} was no longer waiting (${action.latestExecution?.status ?? 'no execution'})` };
      await client.send(
        new PutApprovalResultCommand({
          pipelineName: backend.pipeline,
          stageName: backend.stage,
          actionName: backend.action,
          token,
          result: { status: notice.verdict === 'approved' ? 'Approved' : 'Rejected', summary: notice.comment.slice(0, 512) },
        }),
        { abortSignal: notice.signal },
      );
      return { detail: `CodePipeline ${where}: ${notice.verdict}` };
    } catch (error) {
      if (error instanceof BackendError) throw error;
      const name = (error as { name?: string }).name ?? '';
      if (alreadyAnswered.has(name)) return { detail: `CodePipeline ${where} was no longer waiting (${name})` };
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      const retryable = (error as { $retryable?: unknown }).$retryable !== undefined || status === undefined || status >= 500 || name === 'ThrottlingException';
      throw new BackendError(`CodePipeline ${where}: ${name || 'error'}: ${(error as Error).message}`, retryable, { cause: error });
    }
  };
}
