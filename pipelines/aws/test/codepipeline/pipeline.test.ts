// CodePipeline against aws-sdk-client-mock: real SDK client and commands, answers shaped like the
// API's (GetPipelineState's stageStates / actionStates / latestExecution.token, GetPipelineExecution,
// ListActionExecutions, ListPipelineExecutions), the service's own error classes, a fake clock.
import { afterEach, describe, expect, it } from '@jest/globals';
import { mockClient } from 'aws-sdk-client-mock';
import {
  ApprovalAlreadyCompletedException,
  CodePipelineClient,
  CodePipelineServiceException,
  GetPipelineExecutionCommand,
  GetPipelineStateCommand,
  InvalidApprovalTokenException,
  ListActionExecutionsCommand,
  ListPipelineExecutionsCommand,
  PutApprovalResultCommand,
  RollbackStageCommand,
  StartPipelineExecutionCommand,
  StopPipelineExecutionCommand,
  type StageState,
} from '@aws-sdk/client-codepipeline';
import { answerCodePipelineApproval, rollbackCodePipelineStage, startCodePipeline } from '../../src/codepipeline/pipeline.js';
import { fakeClock } from '../../src/sdk/index.js';
import { ShipgateError } from '../../../protocol/src/errors.js';

const cp = mockClient(CodePipelineClient);
afterEach(() => {
  cp.reset();
});
const client = () => new CodePipelineClient({ region: 'eu-west-1' });
const token = '3f1c2b9a-7e4d-4c1b-9a2e-5d6f7a8b9c0d';
const EXEC = 'a1b2c3d4-5678-90ab-cdef-111111111111';

type Status = 'InProgress' | 'Succeeded' | 'Failed';
function state(source: Status, approve: Status | undefined, deploy: Status | undefined, extra: { approvalToken?: string; deployError?: string } = {}): { pipelineName: string; pipelineVersion: number; stageStates: StageState[] } {
  const stage = (name: string, action: string, status: Status | undefined, latest: Record<string, unknown> = {}): StageState => ({
    stageName: name,
    inboundTransitionState: { enabled: true },
    ...(status ? { latestExecution: { pipelineExecutionId: EXEC, status } } : { latestExecution: { pipelineExecutionId: 'older-execution', status: 'Succeeded' } }),
    actionStates: [{ actionName: action, ...(status ? { latestExecution: { actionExecutionId: `${name}-1`, status, lastStatusChange: new Date('2026-11-30T10:00:00Z'), ...latest } } : {}) }],
  });
  return {
    pipelineName: 'orders',
    pipelineVersion: 3,
    stageStates: [
      stage('Source', 'GitHub', source, { summary: 'Merge pull request #42 from acme/feature' }),
      stage('Approve', 'Manual', approve, extra.approvalToken ? { token: extra.approvalToken } : {}),
      stage('Deploy', 'CodeDeploy', deploy, extra.deployError ? { errorDetails: { code: 'JobFailed', message: extra.deployError }, externalExecutionUrl: 'https://console.aws.amazon.com/codedeploy/d-XYZ' } : {}),
    ],
  };
}
const execution = (status: string) => ({ pipelineExecution: { pipelineName: 'orders', pipelineVersion: 3, pipelineExecutionId: EXEC, status: status as 'InProgress', executionMode: 'SUPERSEDED' as const } });

describe('startCodePipeline', () => {
  it('starts an execution and follows it stage by stage to Succeeded', async () => {
    cp.on(StartPipelineExecutionCommand).resolves({ pipelineExecutionId: EXEC });
    cp.on(GetPipelineExecutionCommand).resolvesOnce(execution('InProgress')).resolvesOnce(execution('InProgress')).resolves(execution('Succeeded'));
    cp.on(GetPipelineStateCommand)
      .resolvesOnce(state('Succeeded', 'InProgress', undefined, { approvalToken: token }))
      .resolvesOnce(state('Succeeded', 'Succeeded', 'InProgress'))
      .resolves(state('Succeeded', 'Succeeded', 'Succeeded'));
    const lines: string[] = [];
    const result = await startCodePipeline({ pipeline: 'orders', variables: { VERSION: '1.4.2' }, client: client(), clock: fakeClock(), log: (l) => lines.push(l) });

    expect(cp.commandCalls(StartPipelineExecutionCommand)[0]!.args[0].input).toEqual({ name: 'orders', variables: [{ name: 'VERSION', value: '1.4.2' }] });
    expect(result).toMatchObject({ status: 'Succeeded', pipelineExecutionId: EXEC, timedOut: false });
    expect(lines).toEqual(
      expect.arrayContaining([
        'stage Source: Succeeded',
        '  Approve/Manual: InProgress — waiting for a manual approval',
        'stage Deploy: InProgress',
        '  Deploy/CodeDeploy: Succeeded',
        `orders ${EXEC}: Succeeded`,
      ]),
    );
    // a stage is reported once per change, not on every poll
    expect(lines.filter((l) => l === 'stage Source: Succeeded')).toHaveLength(1);
    expect(cp.commandCalls(StopPipelineExecutionCommand)).toHaveLength(0);
  });

  it('reports the failed action with its error from ListActionExecutions', async () => {
    cp.on(StartPipelineExecutionCommand).resolves({ pipelineExecutionId: EXEC });
    cp.on(GetPipelineExecutionCommand).resolves(execution('Failed'));
    cp.on(GetPipelineStateCommand).resolves(state('Succeeded', 'Succeeded', 'Failed', { deployError: 'Deployment d-XYZ failed' }));
    cp.on(ListActionExecutionsCommand).resolves({
      actionExecutionDetails: [
        { pipelineExecutionId: EXEC, actionExecutionId: 'x', stageName: 'Deploy', actionName: 'CodeDeploy', status: 'Failed', output: { executionResult: { externalExecutionId: 'd-XYZ', externalExecutionSummary: 'Deployment d-XYZ failed', errorDetails: { code: 'JobFailed', message: 'Deployment d-XYZ failed' } } } },
        { pipelineExecutionId: EXEC, actionExecutionId: 'y', stageName: 'Source', actionName: 'GitHub', status: 'Succeeded' },
      ],
    });
    const lines: string[] = [];
    const result = await startCodePipeline({ pipeline: 'orders', client: client(), clock: fakeClock(), log: (l) => lines.push(l) });
    expect(result.status).toBe('Failed');
    expect(result.failures).toEqual(['Deploy/CodeDeploy failed: JobFailed: Deployment d-XYZ failed']);
    expect(cp.commandCalls(ListActionExecutionsCommand)[0]!.args[0].input).toMatchObject({ pipelineName: 'orders', filter: { pipelineExecutionId: EXEC } });
    expect(lines).toContainEqual(expect.stringMatching(/Deploy\/CodeDeploy: Failed — JobFailed: Deployment d-XYZ failed/));
  });

  it('stops the execution when it runs past the timeout', async () => {
    cp.on(StartPipelineExecutionCommand).resolves({ pipelineExecutionId: EXEC });
    cp.on(GetPipelineExecutionCommand).resolves(execution('InProgress'));
    cp.on(GetPipelineStateCommand).resolves(state('Succeeded', 'InProgress', undefined, { approvalToken: token }));
    cp.on(StopPipelineExecutionCommand).resolves({ pipelineExecutionId: EXEC });
    const clock = fakeClock();
    const result = await startCodePipeline({ pipeline: 'orders', client: client(), clock, timeoutMs: 120_000, pollIntervalMs: 30_000, log: () => {} });
    expect(result).toMatchObject({ timedOut: true, status: 'Stopping' });
    expect(cp.commandCalls(StopPipelineExecutionCommand)[0]!.args[0].input).toEqual({ pipelineName: 'orders', pipelineExecutionId: EXEC, abandon: false, reason: 'shipgate: not finished after 120 s' });
    expect(cp.commandCalls(GetPipelineExecutionCommand).length).toBeLessThanOrEqual(6);
  });

  it('stops the execution (abandoning, when asked) on cancel', async () => {
    cp.on(StartPipelineExecutionCommand).resolves({ pipelineExecutionId: EXEC });
    const controller = new AbortController();
    cp.on(GetPipelineExecutionCommand).callsFake(async () => {
      controller.abort(new Error('run cancelled'));
      return execution('InProgress');
    });
    cp.on(GetPipelineStateCommand).resolves(state('InProgress', undefined, undefined));
    cp.on(StopPipelineExecutionCommand).resolves({});
    await expect(startCodePipeline({ pipeline: 'orders', client: client(), clock: fakeClock(), signal: controller.signal, abandon: true })).rejects.toThrow('run cancelled');
    expect(cp.commandCalls(StopPipelineExecutionCommand)[0]!.args[0].input).toMatchObject({ pipelineExecutionId: EXEC, abandon: true });
  });

  it('retries a throttled GetPipelineState', async () => {
    cp.on(StartPipelineExecutionCommand).resolves({ pipelineExecutionId: EXEC });
    cp.on(GetPipelineExecutionCommand).resolves(execution('Succeeded'));
    cp.on(GetPipelineStateCommand)
      .rejectsOnce(new CodePipelineServiceException({ name: 'ThrottlingException', message: 'Rate exceeded', $fault: 'client', $metadata: { httpStatusCode: 400 } }))
      .resolves(state('Succeeded', 'Succeeded', 'Succeeded'));
    const result = await startCodePipeline({ pipeline: 'orders', client: client(), clock: fakeClock(), retry: { attempts: 3, initialDelayMs: 1, maxDelayMs: 1 } });
    expect(result.status).toBe('Succeeded');
    expect(cp.commandCalls(GetPipelineStateCommand)).toHaveLength(2);
  });
});

describe('answerCodePipelineApproval', () => {
  const request = { pipeline: 'orders', stage: 'Approve', action: 'Manual', signal: new AbortController().signal };

  it('approves with the token from GetPipelineState', async () => {
    cp.on(GetPipelineStateCommand).resolves(state('Succeeded', 'InProgress', undefined, { approvalToken: token }));
    cp.on(PutApprovalResultCommand).resolves({ approvedAt: new Date('2026-11-30T10:05:00Z') });
    const answer = await answerCodePipelineApproval({ ...request, approved: true, summary: 'alice approved in #deploys', client: client() });
    expect(cp.commandCalls(PutApprovalResultCommand)[0]!.args[0].input).toEqual({ pipelineName: 'orders', stageName: 'Approve', actionName: 'Manual', token, result: { status: 'Approved', summary: 'alice approved in #deploys' } });
    expect(answer).toMatchObject({ status: 'Approved', pipelineExecutionId: EXEC, approvedAt: new Date('2026-11-30T10:05:00Z') });
  });

  it('says the approval expired when CodePipeline no longer accepts its token', async () => {
    cp.on(GetPipelineStateCommand).resolves(state('Succeeded', 'InProgress', undefined, { approvalToken: token }));
    cp.on(PutApprovalResultCommand).rejects(new InvalidApprovalTokenException({ message: 'The approval request token is not valid', $metadata: { httpStatusCode: 400 } }));
    const error = (await answerCodePipelineApproval({ ...request, approved: false, client: client() }).catch((e: unknown) => e)) as ShipgateError;
    expect(error).toBeInstanceOf(ShipgateError);
    expect(error.code).toBe('codepipeline.approval-expired');
    expect(error.message).toBe('the approval at orders/Approve/Manual is no longer open: its token expired or a newer execution replaced it');
    expect(cp.commandCalls(PutApprovalResultCommand)).toHaveLength(1);
  });

  it('says someone answered first', async () => {
    cp.on(GetPipelineStateCommand).resolves(state('Succeeded', 'InProgress', undefined, { approvalToken: token }));
    cp.on(PutApprovalResultCommand).rejects(new ApprovalAlreadyCompletedException({ message: 'The approval action has already been completed', $metadata: { httpStatusCode: 400 } }));
    const error = (await answerCodePipelineApproval({ ...request, approved: true, client: client() }).catch((e: unknown) => e)) as ShipgateError;
    expect(error.code).toBe('codepipeline.approval-already-answered');
  });

  it('refuses, without calling PutApprovalResult, when no approval is waiting', async () => {
    cp.on(GetPipelineStateCommand).resolves(state('Succeeded', 'Succeeded', 'InProgress'));
    const error = (await answerCodePipelineApproval({ ...request, approved: true, client: client() }).catch((e: unknown) => e)) as ShipgateError;
    expect(error.code).toBe('codepipeline.no-pending-approval');
    expect(error.message).toMatch(/no approval is waiting at orders\/Approve\/Manual: its latest execution is Succeeded/);
    expect(cp.commandCalls(PutApprovalResultCommand)).toHaveLength(0);
  });

  it('takes the token from ListActionExecutions in a PARALLEL-mode pipeline', async () => {
    cp.on(GetPipelineStateCommand).resolves(state('Succeeded', 'InProgress', undefined));
    cp.on(ListActionExecutionsCommand).resolves({ actionExecutionDetails: [{ pipelineExecutionId: EXEC, stageName: 'Approve', actionName: 'Manual', status: 'InProgress', output: { executionResult: { externalExecutionId: token } } }] });
    cp.on(PutApprovalResultCommand).resolves({ approvedAt: new Date() });
    await answerCodePipelineApproval({ ...request, approved: true, client: client() });
    expect(cp.commandCalls(PutApprovalResultCommand)[0]!.args[0].input.token).toBe(token);
  });

  it('names the permission when PutApprovalResult is denied', async () => {
    cp.on(GetPipelineStateCommand).resolves(state('Succeeded', 'InProgress', undefined, { approvalToken: token }));
    cp.on(PutApprovalResultCommand).rejects(
      new CodePipelineServiceException({
        name: 'AccessDeniedException',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
        message: 'User: arn:aws:sts::111122223333:assumed-role/shipgate-slack/app is not authorized to perform: codepipeline:PutApprovalResult on resource: arn:aws:codepipeline:eu-west-1:111122223333:orders/Approve/Manual',
      }),
    );
    const error = (await answerCodePipelineApproval({ ...request, approved: true, client: client() }).catch((e: unknown) => e)) as ShipgateError;
    expect(error.code).toBe('aws.access-denied');
    expect(error.message).toBe('missing permission: codepipeline:PutApprovalResult on arn:aws:codepipeline:eu-west-1:111122223333:orders/Approve/Manual');
  });
});

describe('rollbackCodePipelineStage', () => {
  it('rolls the stage back to the newest earlier succeeded execution and follows it', async () => {
    const current = 'e-0004';
    cp.on(GetPipelineStateCommand).resolvesOnce({ stageStates: [{ stageName: 'Deploy', latestExecution: { pipelineExecutionId: current, status: 'Failed' }, actionStates: [] }] }).resolves({ stageStates: [] });
    cp.on(ListPipelineExecutionsCommand).resolves({
      pipelineExecutionSummaries: [
        { pipelineExecutionId: 'e-0004', status: 'Failed', startTime: new Date('2026-11-04'), executionType: 'STANDARD' },
        { pipelineExecutionId: 'e-0003', status: 'Stopped', startTime: new Date('2026-11-03'), executionType: 'STANDARD' },
        { pipelineExecutionId: 'e-0002', status: 'Succeeded', startTime: new Date('2026-11-02'), executionType: 'STANDARD' },
        { pipelineExecutionId: 'e-0001', status: 'Succeeded', startTime: new Date('2026-11-01'), executionType: 'STANDARD' },
      ],
    });
    cp.on(RollbackStageCommand).resolves({ pipelineExecutionId: 'r-0001' });
    cp.on(GetPipelineExecutionCommand).resolves({ pipelineExecution: { pipelineExecutionId: 'r-0001', status: 'Succeeded', executionType: 'ROLLBACK' } });
    const result = await rollbackCodePipelineStage({ pipeline: 'orders', stage: 'Deploy', client: client(), clock: fakeClock() });
    expect(cp.commandCalls(RollbackStageCommand)[0]!.args[0].input).toEqual({ pipelineName: 'orders', stageName: 'Deploy', targetPipelineExecutionId: 'e-0002' });
    expect(result).toMatchObject({ status: 'Succeeded', pipelineExecutionId: 'r-0001', fromExecutionId: current, targetExecutionId: 'e-0002', message: 'rolled orders/Deploy back from e-0004 to e-0002 (execution r-0001)' });
  });
  it('leaves a slow stage rollback running at the timeout', async () => {
    cp.on(GetPipelineStateCommand).resolves({ stageStates: [{ stageName: 'Deploy', latestExecution: { pipelineExecutionId: 'e-2', status: 'Failed' }, actionStates: [] }] });
    cp.on(RollbackStageCommand).resolves({ pipelineExecutionId: 'r-2' });
    cp.on(GetPipelineExecutionCommand).resolves({ pipelineExecution: { pipelineExecutionId: 'r-2', status: 'InProgress', executionType: 'ROLLBACK' } });
    const result = await rollbackCodePipelineStage({ pipeline: 'orders', stage: 'Deploy', targetExecutionId: 'e-1', client: client(), clock: fakeClock(), timeoutMs: 60_000 });
    expect(cp.commandCalls(StopPipelineExecutionCommand)).toHaveLength(0);
    expect(result).toMatchObject({ timedOut: true, status: 'InProgress', message: 'rollback of orders/Deploy to e-1 is still in progress after the timeout, not stopped (execution r-2)' });
  });
});
