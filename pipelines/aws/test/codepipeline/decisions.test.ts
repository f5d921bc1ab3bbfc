import { describe, expect, it } from '@jest/globals';
import type { PipelineExecutionSummary, StageState } from '@aws-sdk/client-codepipeline';
import { chooseStageRollbackTarget, describeChanges, describeFailedActions, executionSnapshot, findApproval } from '../../src/codepipeline/decisions.js';

const exec = (id: string, day: number, status: PipelineExecutionSummary['status'] = 'Succeeded', extra: Partial<PipelineExecutionSummary> = {}): PipelineExecutionSummary => ({
  pipelineExecutionId: id,
  status,
  startTime: new Date(Date.UTC(2026, 10, day)),
  lastUpdateTime: new Date(Date.UTC(2026, 10, day, 1)),
  executionType: 'STANDARD',
  trigger: { triggerType: 'StartPipelineExecution' },
  ...extra,
});

describe('chooseStageRollbackTarget', () => {
  it.each([
    { name: 'the newest succeeded execution before the current one', executions: [exec('e4', 4), exec('e3', 3), exec('e2', 2, 'Failed'), exec('e1', 1)], current: 'e4', expected: 'e3' },
    { name: 'skips failed, stopped and superseded ones', executions: [exec('e4', 4), exec('e3', 3, 'Failed'), exec('e2', 2, 'Superseded'), exec('e1', 1)], current: 'e4', expected: 'e1' },
    { name: 'never a newer execution, even a succeeded one (the stage failed on e3, e4 runs elsewhere)', executions: [exec('e4', 4), exec('e3', 3, 'Failed'), exec('e2', 2)], current: 'e3', expected: 'e2' },
    {
      name: 'after a rollback, goes further back than the execution rolled back to',
      executions: [exec('r1', 5, 'Succeeded', { executionType: 'ROLLBACK', rollbackMetadata: { rollbackTargetPipelineExecutionId: 'e2' } }), exec('e3', 3), exec('e2', 2), exec('e1', 1)],
      current: 'r1',
      expected: 'e1',
    },
    { name: 'never a rollback execution itself', executions: [exec('e3', 3), exec('r0', 2, 'Succeeded', { executionType: 'ROLLBACK' }), exec('e1', 1)], current: 'e3', expected: 'e1' },
    { name: 'the newest other succeeded one when the current is older than the list', executions: [exec('e9', 9), exec('e8', 8)], current: 'e0', expected: 'e9' },
  ])('$name', ({ executions, current, expected }) => {
    const choice = chooseStageRollbackTarget(executions, current);
    expect(choice.found && choice.execution.pipelineExecutionId).toBe(expected);
  });

  it('finds nothing when no earlier execution succeeded', () => {
    const choice = chooseStageRollbackTarget([exec('e2', 2), exec('e1', 1, 'Failed')], 'e2');
    expect(choice).toEqual({ found: false, reason: 'no execution before e2 succeeded' });
  });
});

// Shaped like GetPipelineState's stageStates.
const stages = (approval: Record<string, unknown> | undefined): StageState[] => [
  { stageName: 'Source', latestExecution: { pipelineExecutionId: 'e-1', status: 'Succeeded' }, actionStates: [{ actionName: 'GitHub', latestExecution: { status: 'Succeeded', summary: 'Merge pull request #42' } }] },
  { stageName: 'Approve', latestExecution: { pipelineExecutionId: 'e-1', status: 'InProgress' }, actionStates: [{ actionName: 'Manual', ...(approval ? { latestExecution: approval } : {}) }] },
  { stageName: 'Deploy', latestExecution: { pipelineExecutionId: 'e-0', status: 'Succeeded' }, actionStates: [{ actionName: 'CodeDeploy', latestExecution: { status: 'Succeeded' } }] },
];

describe('findApproval', () => {
  const token = '0b7a2b3c-1d2e-4f5a-8b9c-0d1e2f3a4b5c';
  it.each([
    { name: 'an open approval with its token', state: { status: 'InProgress', token }, expected: { open: true, token, pipelineExecutionId: 'e-1' } },
    { name: 'an answered approval', state: { status: 'Succeeded', lastUpdatedBy: 'arn:aws:iam::1:user/bob' }, expected: { open: false, code: 'not-waiting', message: 'no approval is waiting at orders/Approve/Manual: its latest execution is Succeeded (by arn:aws:iam::1:user/bob)' } },
    { name: 'an approval that never ran', state: undefined, expected: { open: false, code: 'not-waiting', message: 'no approval is waiting at orders/Approve/Manual: it has never run' } },
  ])('$name', ({ state, expected }) => {
    expect(findApproval('orders', stages(state), 'Approve', 'Manual')).toMatchObject(expected);
  });

  it.each([
    ['Aprove', 'Manual', 'unknown-stage', 'stages: Source, Approve, Deploy'],
    ['Approve', 'manual', 'unknown-action', 'actions: Manual'],
  ])('names what exists when %s/%s does not', (stage, action, code, hint) => {
    expect(findApproval('orders', stages(undefined), stage, action)).toMatchObject({ open: false, code, hint });
  });
});

describe('progress', () => {
  it('reports only what changed, for this execution only', () => {
    const now = stages({ status: 'InProgress', token: 't' });
    expect(describeChanges(now, 'e-1', new Map())).toEqual(['stage Source: Succeeded', '  Source/GitHub: Succeeded — Merge pull request #42', 'stage Approve: InProgress', '  Approve/Manual: InProgress — waiting for a manual approval']);
    expect(describeChanges(now, 'e-1', executionSnapshot(now, 'e-1'))).toEqual([]);
  });

  it('says why an action failed, from ListActionExecutions', () => {
    expect(
      describeFailedActions([
        { stageName: 'Deploy', actionName: 'CodeDeploy', status: 'Failed', output: { executionResult: { externalExecutionId: 'd-1', externalExecutionUrl: 'https://console/d-1', errorDetails: { code: 'JobFailed', message: 'Deployment d-1 failed' } } } },
        { stageName: 'Source', actionName: 'GitHub', status: 'Succeeded' },
      ]),
    ).toEqual(['Deploy/CodeDeploy failed: JobFailed: Deployment d-1 failed (https://console/d-1)']);
  });
});
