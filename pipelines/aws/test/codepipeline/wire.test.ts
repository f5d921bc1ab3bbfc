// answerCodePipelineApproval with the real SDK client over the wire: a loopback server speaks
// CodePipeline's JSON 1.1 protocol (X-Amz-Target CodePipeline_20150709.*, __type errors), so the
// PutApprovalResult body and the error a second answer gets are the real serialisation.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { answerCodePipelineApproval } from '../../src/codepipeline/pipeline.js';
import { ShipgateError } from '../../../protocol/src/errors.js';
import { startAwsStandIn, type AwsStandIn } from '../../../test/support/aws-stand-in.js';

const token = '6d1f3a2b-4c5d-4e6f-8a9b-0c1d2e3f4a5b';
let aws: AwsStandIn;
let endpoint = '';
let answered = false;
beforeAll(async () => {
  aws = await startAwsStandIn();
  endpoint = aws.url;
  aws.handlers.set('GetPipelineState', () => ({
    pipelineName: 'orders',
    pipelineVersion: 4,
    created: 1764400000,
    updated: 1764400000,
    stageStates: [
      { stageName: 'Source', latestExecution: { pipelineExecutionId: 'e-9', status: 'Succeeded' }, actionStates: [{ actionName: 'GitHub', latestExecution: { status: 'Succeeded', lastStatusChange: 1764496000 } }] },
      { stageName: 'Approve', latestExecution: { pipelineExecutionId: 'e-9', status: 'InProgress' }, actionStates: [{ actionName: 'Manual', latestExecution: { actionExecutionId: 'a-1', status: 'InProgress', token, lastStatusChange: 1764496100 } }] },
    ],
  }));
  aws.handlers.set('PutApprovalResult', () => {
    if (answered) return { error: 'ApprovalAlreadyCompletedException', body: { message: 'The approval action has already been approved or rejected' } };
    answered = true;
    return { approvedAt: 1796032800.25 }; // 2026-11-30T10:00:00.250Z in epoch seconds, as AWS sends it
  });
});
afterAll(async () => {
  await aws?.close();
});

describe('answerCodePipelineApproval over the wire', () => {
  const request = () => ({
    pipeline: 'orders',
    stage: 'Approve',
    action: 'Manual',
    approved: true,
    summary: 'approved by alice in #deploys',
    region: 'eu-west-1',
    endpoint,
    env: { AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret' },
    signal: AbortSignal.timeout(10_000),
  });

  it('sends the token and the decision as CodePipeline expects them, and parses approvedAt', async () => {
    const answer = await answerCodePipelineApproval(request());
    expect(aws.calls.find((r) => r.target.endsWith('.GetPipelineState'))?.input).toEqual({ name: 'orders' });
    expect(aws.calls.find((r) => r.target.endsWith('.PutApprovalResult'))?.input).toEqual({ pipelineName: 'orders', stageName: 'Approve', actionName: 'Manual', token, result: { status: 'Approved', summary: 'approved by alice in #deploys' } });
    expect(answer).toMatchObject({ status: 'Approved', pipelineExecutionId: 'e-9' });
    expect(answer.approvedAt?.toISOString()).toBe('2026-11-30T10:00:00.250Z');
  });

  it('turns the second answer into approval-already-answered', async () => {
    const error = (await answerCodePipelineApproval(request()).catch((e: unknown) => e)) as ShipgateError;
    expect(error).toBeInstanceOf(ShipgateError);
    expect(error.code).toBe('codepipeline.approval-already-answered');
  });
});
