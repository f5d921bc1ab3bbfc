// The `codepipeline` step in this process: inputs, the client the step builds (stubbed at the class
// by aws-sdk-client-mock), outputs and the failure it reports.
import { afterEach, describe, expect, it } from '@jest/globals';
import os from 'node:os';
import { mockClient } from 'aws-sdk-client-mock';
import { CodePipelineClient, GetPipelineExecutionCommand, GetPipelineStateCommand, ListActionExecutionsCommand, PutApprovalResultCommand, StartPipelineExecutionCommand } from '@aws-sdk/client-codepipeline';
import { runStepInProcess } from '../../../core/src/executors/local.js';
import { codepipelineStep } from '../../src/codepipeline/index.js';
import { defaultRegistry } from '../../../cli/src/cli/steps.js';

const cp = mockClient(CodePipelineClient);
afterEach(() => {
  cp.reset();
});
const env = { AWS_REGION: 'eu-west-1' };
const cwd = os.tmpdir();

describe('codepipeline step', () => {
  it('is a built-in step', () => {
    expect(defaultRegistry().get('codepipeline')).toBe(codepipelineStep);
  });

  it('starts the pipeline and sets the execution id and status', async () => {
    cp.on(StartPipelineExecutionCommand).resolves({ pipelineExecutionId: 'exec-1' });
    cp.on(GetPipelineExecutionCommand).resolves({ pipelineExecution: { pipelineExecutionId: 'exec-1', status: 'Succeeded' } });
    cp.on(GetPipelineStateCommand).resolves({ stageStates: [] });
    const result = await runStepInProcess(codepipelineStep, { pipeline: 'orders', 'poll-interval': '1ms' }, { cwd, env });
    expect(result.status).toBe('success');
    expect(result.outputs).toMatchObject({ 'execution-id': 'exec-1', status: 'Succeeded' });
    expect(result.outputs.url).toMatch(/codesuite\/codepipeline\/pipelines\/orders\/executions\/exec-1/);
  });

  it('fails the step with the failed action', async () => {
    cp.on(StartPipelineExecutionCommand).resolves({ pipelineExecutionId: 'exec-2' });
    cp.on(GetPipelineExecutionCommand).resolves({ pipelineExecution: { pipelineExecutionId: 'exec-2', status: 'Failed' } });
    cp.on(GetPipelineStateCommand).resolves({ stageStates: [] });
    cp.on(ListActionExecutionsCommand).resolves({ actionExecutionDetails: [{ stageName: 'Build', actionName: 'CodeBuild', status: 'Failed', output: { executionResult: { externalExecutionSummary: 'Build terminated with state: FAILED' } } }] });
    const result = await runStepInProcess(codepipelineStep, { pipeline: 'orders', 'poll-interval': '1ms' }, { cwd, env });
    expect(result.status).toBe('failure');
    expect(result.error).toMatchObject({ code: 'codepipeline.failed', message: 'orders execution exec-2 failed: Build/CodeBuild failed: Build terminated with state: FAILED' });
  });

  it('rejects a manual approval', async () => {
    cp.on(GetPipelineStateCommand).resolves({ stageStates: [{ stageName: 'Approve', latestExecution: { pipelineExecutionId: 'exec-3', status: 'InProgress' }, actionStates: [{ actionName: 'Manual', latestExecution: { status: 'InProgress', token: 'tok' } }] }] });
    cp.on(PutApprovalResultCommand).resolves({ approvedAt: new Date() });
    const result = await runStepInProcess(codepipelineStep, { pipeline: 'orders', operation: 'reject', stage: 'Approve', action: 'Manual', summary: 'not today' }, { cwd, env });
    expect(result.status).toBe('success');
    expect(result.outputs.status).toBe('Rejected');
    expect(cp.commandCalls(PutApprovalResultCommand)[0]!.args[0].input.result).toEqual({ status: 'Rejected', summary: 'not today' });
  });

  it.each([
    [{ pipeline: 'orders', operation: 'approve', stage: 'Approve' }, /action: required with operation: approve/],
    [{ pipeline: 'orders', operation: 'rollback' }, /stage: required with operation: rollback/],
    [{ pipeline: 'orders', operation: 'deploy' }, /operation/],
  ])('refuses %j before calling AWS', async (inputs, message) => {
    const result = await runStepInProcess(codepipelineStep, inputs, { cwd, env });
    expect(result.error?.code).toBe('step.inputs');
    expect(result.error?.message).toMatch(message);
    expect(cp.calls()).toHaveLength(0);
  });
});
