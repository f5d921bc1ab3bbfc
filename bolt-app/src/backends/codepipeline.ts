// AWS CodePipeline: answer a manual approval action with PutApprovalResult, through
// @shipgate/aws' `answerCodePipelineApproval` (the token from GetPipelineState, or from
// ListActionExecutions in PARALLEL-mode pipelines; bounded retries with back-off and jitter, and
// a circuit breaker shared by every call of this app). When the action is no longer waiting,
// someone already answered it or it timed out: there is nothing left to tell.
import { CodePipelineClient } from '@aws-sdk/client-codepipeline';
import { answerCodePipelineApproval, awsCircuitBreaker, type AwsRetryOptions } from '@shipgate/aws';
import { isShipgateError } from '@shipgate/protocol';
import type { ApprovalBackend } from '../approvals/model.js';
import { BackendError, type BackendResult, type DecisionBackend } from './types.js';

export type CodePipelineClientFactory = (region: string | undefined) => CodePipelineClient;

const clients = new Map<string, CodePipelineClient>();

/** One client per region (credentials and region from the SDK's own provider chain). */
export const defaultCodePipelineClient: CodePipelineClientFactory = (region) => {
  const key = region ?? '';
  let client = clients.get(key);
  if (!client) {
    client = new CodePipelineClient({ ...(region ? { region } : {}), maxAttempts: 1 });
    clients.set(key, client);
  }
  return client;
};

const noLongerWaiting = new Set(['codepipeline.approval-already-answered', 'codepipeline.approval-expired', 'codepipeline.no-pending-approval']);

export function codePipelineDecisionBackend(clientFor: CodePipelineClientFactory = defaultCodePipelineClient, retry?: AwsRetryOptions): DecisionBackend<'codepipeline'> {
  const breaker = awsCircuitBreaker();
  return async (backend: Extract<ApprovalBackend, { kind: 'codepipeline' }>, _approval, notice): Promise<BackendResult> => {
    const where = `${backend.pipeline}/${backend.stage}/${backend.action}`;
    try {
      const answer = await answerCodePipelineApproval({
        pipeline: backend.pipeline,
        stage: backend.stage,
        action: backend.action,
        approved: notice.verdict === 'approved',
        summary: notice.comment,
        client: clientFor(backend.region),
        ...(backend.region ? { region: backend.region } : {}),
        signal: notice.signal,
        breaker,
        ...(retry ? { retry } : {}),
      });
      return { detail: `CodePipeline ${where}: ${answer.status.toLowerCase()}${answer.pipelineExecutionId ? ` (execution ${answer.pipelineExecutionId})` : ''}` };
    } catch (error) {
      if (isShipgateError(error) && noLongerWaiting.has(error.code)) return { detail: `CodePipeline ${where} was no longer waiting: ${error.message}` };
      // a mistake in the request (no such pipeline, stage or action) will not heal by itself
      const retryable = !(isShipgateError(error) && (error.exitCode === 2 || /^codepipeline\.unknown-/.test(error.code)));
      throw new BackendError(isShipgateError(error) ? `${error.message} [${error.code}]` : `CodePipeline ${where}: ${(error as Error).message}`, retryable, { cause: error });
    }
  };
}
