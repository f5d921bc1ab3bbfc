// `uses: codepipeline` — drives an AWS CodePipeline: start an execution and follow it stage by
// stage (stopping it on timeout or cancel), approve or reject a manual-approval action, or roll a
// stage back to an earlier succeeded execution. This file holds only the inputs; the SDK and the
// logic load when the step runs.
import * as z from 'zod';
import { defineStep, type StepContext } from '@shipgate/protocol';
import { ExitCode, ShipgateError } from '@shipgate/protocol';
import { parseDuration } from '@shipgate/protocol';
import { describedDuration } from '@shipgate/protocol';

const duration = describedDuration;

export const codepipelineOperations = ['start', 'approve', 'reject', 'rollback'] as const;

export const codepipelineInputs = z
  .strictObject({
    pipeline: z.string().min(1).describe('The pipeline name.'),
    operation: z.enum(codepipelineOperations).default('start').describe('start an execution, approve / reject a manual approval, or rollback a stage.'),
    stage: z.string().optional().describe('approve / reject / rollback: the stage.'),
    action: z.string().optional().describe('approve / reject: the manual-approval action in the stage.'),
    summary: z.string().max(512).optional().describe('approve / reject: the reason shown in CodePipeline.'),
    target: z.string().optional().describe('rollback: the execution id to roll back to (default: the newest earlier succeeded one).'),
    variables: z.record(z.string(), z.string()).optional().describe('start: pipeline variables (V2 pipelines).'),
    'client-request-token': z.string().optional().describe('start: idempotency token; the same token starts no second execution.'),
    wait: z.boolean().default(true).describe('start / rollback: follow the execution to its end.'),
    abandon: z.boolean().default(false).describe('On timeout or cancel, abandon in-progress actions instead of letting them finish.'),
    region: z.string().optional().describe('AWS region; default AWS_REGION.'),
    endpoint: z.url().optional().describe('A custom endpoint (a VPC endpoint, LocalStack).'),
    timeout: duration('1h', 'Stop the execution if it has not finished after this long.'),
    'poll-interval': duration('15s', 'Time between status checks.'),
  })
  .superRefine((inputs, ctx) => {
    const need: Record<(typeof codepipelineOperations)[number], ('stage' | 'action')[]> = { start: [], approve: ['stage', 'action'], reject: ['stage', 'action'], rollback: ['stage'] };
    for (const field of need[inputs.operation]) if (!inputs[field]) ctx.addIssue({ code: 'custom', path: [field], message: `required with operation: ${inputs.operation}` });
  });
export type CodePipelineInputs = z.output<typeof codepipelineInputs>;

async function run(ctx: StepContext<CodePipelineInputs>): Promise<void> {
  const { startCodePipeline, answerCodePipelineApproval, rollbackCodePipelineStage } = await import('./pipeline.js');
  const { inputs } = ctx;
  const common = {
    pipeline: inputs.pipeline,
    region: inputs.region,
    endpoint: inputs.endpoint,
    env: ctx.env,
    signal: ctx.signal,
    log: (line: string) => ctx.logger.info(line),
    timeoutMs: parseDuration(inputs.timeout),
    pollIntervalMs: parseDuration(inputs['poll-interval']),
    abandon: inputs.abandon,
    wait: inputs.wait,
  };

  if (inputs.operation === 'approve' || inputs.operation === 'reject') {
    const answer = await answerCodePipelineApproval({ ...common, stage: inputs.stage!, action: inputs.action!, approved: inputs.operation === 'approve', summary: inputs.summary });
    ctx.setOutput('status', answer.status);
    if (answer.pipelineExecutionId) ctx.setOutput('execution-id', answer.pipelineExecutionId);
    ctx.summary(`### CodePipeline ${inputs.pipeline}/${inputs.stage}/${inputs.action}: ${answer.status}`);
    return;
  }

  const result =
    inputs.operation === 'rollback'
      ? await rollbackCodePipelineStage({ ...common, stage: inputs.stage!, targetExecutionId: inputs.target })
      : await startCodePipeline({ ...common, variables: inputs.variables, clientRequestToken: inputs['client-request-token'] });
  ctx.setOutput('execution-id', result.pipelineExecutionId);
  ctx.setOutput('status', result.status);
  ctx.setOutput('url', result.url);
  const title = inputs.operation === 'rollback' ? `rollback of ${inputs.pipeline}/${inputs.stage}` : inputs.pipeline;
  ctx.summary([`### CodePipeline ${title}: ${result.status}${result.timedOut ? ' (timed out, stopped)' : ''}`, '', `[${result.pipelineExecutionId}](${result.url})`, ...result.failures.map((f) => `- ${f}`)].join('\n'));
  if (result.status === 'Succeeded' || (!inputs.wait && result.status === 'InProgress')) return;
  throw new ShipgateError(
    result.timedOut ? 'codepipeline.timeout' : 'codepipeline.failed',
    result.timedOut ? `${title} execution ${result.pipelineExecutionId} did not finish within ${inputs.timeout}: ${inputs.operation === 'rollback' ? 'not stopped, it goes on' : 'stop requested'}` : `${title} execution ${result.pipelineExecutionId} ${result.status.toLowerCase()}${result.failures[0] ? `: ${result.failures[0]}` : ''}`,
    { exitCode: ExitCode.failed, hint: result.timedOut ? 'raise `timeout`, or see which stage waits in the console' : `see ${result.url}` },
  );
}

export const codepipelineStep = defineStep({
  name: 'codepipeline',
  description: 'Starts and follows an AWS CodePipeline execution, answers a manual approval, or rolls a stage back.',
  inputs: codepipelineInputs,
  outputs: {
    'execution-id': 'the pipeline execution started, rolled back with, or approved',
    status: 'the execution status (Succeeded, Failed, Stopped…) or Approved / Rejected',
    url: 'the execution in the AWS console',
  },
  run,
});
