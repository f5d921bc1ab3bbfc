// `shipgate deploy`, `shipgate rollback` and `shipgate codepipeline` in-process (the real command
// tree through runCli), with the AWS clients stubbed at the class by aws-sdk-client-mock.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { mockClient } from 'aws-sdk-client-mock';
import {
  BatchGetDeploymentsCommand,
  CodeDeployClient,
  CodeDeployServiceException,
  CreateDeploymentCommand,
  GetDeploymentCommand,
  GetDeploymentGroupCommand,
  ListDeploymentsCommand,
} from '@aws-sdk/client-codedeploy';
import { CodePipelineClient, GetPipelineStateCommand, PutApprovalResultCommand, InvalidApprovalTokenException } from '@aws-sdk/client-codepipeline';
import { cli } from '../../../test/helpers.js';
import { exitCodeFor } from '../../../cli/src/cli/commands/deploy.js';

const cd = mockClient(CodeDeployClient);
const cp = mockClient(CodePipelineClient);
let dir = '';
const env = () => ({ AWS_REGION: 'eu-west-1', SHIPGATE_DEPLOYER: 'alice' });
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'shipgate-deploy-cli-'));
});
afterEach(async () => {
  cd.reset();
  cp.reset();
  await rm(dir, { recursive: true, force: true });
});

describe('shipgate deploy', () => {
  it('deploys an S3 revision and exits 0', async () => {
    cd.on(CreateDeploymentCommand).resolves({ deploymentId: 'd-CLI00001' });
    cd.on(GetDeploymentCommand).resolves({ deploymentInfo: { deploymentId: 'd-CLI00001', status: 'Succeeded' } });
    const { code, out, err } = await cli(['deploy', '--application', 'orders', '--deployment-group', 'prod', '--bucket', 'releases', '--key', 'orders.zip', '--release', '1.4.2', '--poll-interval', '1ms'], dir, env());
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toMatch(/d-CLI00001: Succeeded/);
    const record = JSON.parse((await readFile(path.join(dir, '.shipgate', 'state', 'deployments.jsonl'), 'utf8')).trim()) as Record<string, unknown>;
    expect(record).toMatchObject({ service: 'orders', environment: 'prod', version: '1.4.2', outcome: 'succeeded', deployer: 'alice' });
  });

  it('exits 3 and names the permission when AWS denies it', async () => {
    cd.on(CreateDeploymentCommand).rejects(new CodeDeployServiceException({ name: 'AccessDeniedException', $fault: 'client', $metadata: {}, message: 'no' }));
    const { code, err } = await cli(['deploy', '--application', 'orders', '--deployment-group', 'prod', '--bucket', 'releases', '--key', 'orders.zip'], dir, env());
    expect(code).toBe(3);
    expect(err).toMatch(/missing permission: codedeploy:CreateDeployment on arn:aws:codedeploy:eu-west-1:\*:deploymentgroup:orders\/prod \[aws.access-denied\]/);
  });

  it('exits 2 on flags that make no deployment', async () => {
    const { code, err } = await cli(['deploy', '--application', 'orders', '--deployment-group', 'prod'], dir, env());
    expect(code).toBe(2);
    expect(err).toMatch(/either bucket \+ key/);
    expect(cd.calls()).toHaveLength(0);
  });
});

describe('shipgate rollback', () => {
  it('rolls a deployment group back and records it as rolled back', async () => {
    const s3 = (key: string) => ({ revisionType: 'S3' as const, s3Location: { bucket: 'releases', key, bundleType: 'zip' as const } });
    cd.on(GetDeploymentGroupCommand).resolves({ deploymentGroupInfo: { targetRevision: s3('orders-2.zip'), lastSuccessfulDeployment: { deploymentId: 'd-2' } } });
    cd.on(ListDeploymentsCommand).resolves({ deployments: ['d-2', 'd-1'] });
    cd.on(BatchGetDeploymentsCommand).resolves({
      deploymentsInfo: [
        { deploymentId: 'd-2', status: 'Succeeded', completeTime: new Date('2026-11-02'), revision: s3('orders-2.zip') },
        { deploymentId: 'd-1', status: 'Succeeded', completeTime: new Date('2026-11-01'), revision: s3('orders-1.zip') },
      ],
    });
    cd.on(CreateDeploymentCommand).resolves({ deploymentId: 'd-BACK' });
    cd.on(GetDeploymentCommand).resolves({ deploymentInfo: { deploymentId: 'd-BACK', status: 'Succeeded' } });
    const { code, out } = await cli(['rollback', '--application', 'orders', '--deployment-group', 'prod', '--poll-interval', '1ms'], dir, env());
    expect(code).toBe(0);
    expect(out).toMatch(/rolled orders\/prod back from s3:\/\/releases\/orders-2.zip to s3:\/\/releases\/orders-1.zip \(deployment d-BACK\)/);
    const record = JSON.parse((await readFile(path.join(dir, '.shipgate', 'state', 'deployments.jsonl'), 'utf8')).trim()) as Record<string, unknown>;
    expect(record).toMatchObject({ outcome: 'rolled-back', version: 's3://releases/orders-1.zip', deploymentId: 'd-BACK' });
  });

  it('exits 2 when it is not told what to roll back', async () => {
    const { code, err } = await cli(['rollback'], dir, env());
    expect(code).toBe(2);
    expect(err).toMatch(/--application and --deployment-group/);
  });
});

describe('shipgate deployments', () => {
  it('lists the recorded deployments newest first, filtered', async () => {
    const { recordDeployment } = await import('../../../core/src/deployments/index.js');
    const stateDir = path.join(dir, '.shipgate', 'state');
    await recordDeployment({ service: 'orders', environment: 'prod', version: '1.4.1', outcome: 'succeeded', at: '2026-11-29T10:00:00.000Z', deploymentId: 'd-1' }, { stateDir, env: {} });
    await recordDeployment({ service: 'billing', environment: 'prod', version: '2.0.0', outcome: 'succeeded', at: '2026-11-29T11:00:00.000Z' }, { stateDir, env: {} });
    await recordDeployment({ service: 'orders', environment: 'prod', version: '1.4.2', outcome: 'rolled-back', deployer: 'alice', at: '2026-11-30T10:00:00.000Z', deploymentId: 'd-2' }, { stateDir, env: {} });
    const { code, out } = await cli(['deployments', '--service', 'orders'], dir, env());
    expect(code).toBe(0);
    expect(out.trim().split('\n')).toEqual([
      'when                 service  environment  version  outcome      deployer  id',
      '2026-11-30 10:00:00  orders   prod         1.4.2    rolled-back  alice     d-2',
      '2026-11-29 10:00:00  orders   prod         1.4.1    succeeded              d-1',
    ]);
    const json = JSON.parse((await cli(['deployments', '--limit', '1', '--json'], dir, env())).out) as { version: string }[];
    expect(json.map((r) => r.version)).toEqual(['1.4.2']);
  });
});

describe('shipgate codepipeline', () => {
  it('exits 1 with a clear message when the approval token expired', async () => {
    cp.on(GetPipelineStateCommand).resolves({ stageStates: [{ stageName: 'Approve', latestExecution: { pipelineExecutionId: 'e', status: 'InProgress' }, actionStates: [{ actionName: 'Manual', latestExecution: { status: 'InProgress', token: 'tok' } }] }] });
    cp.on(PutApprovalResultCommand).rejects(new InvalidApprovalTokenException({ message: 'invalid token', $metadata: {} }));
    const { code, err } = await cli(['codepipeline', 'approve', '--pipeline', 'orders', '--stage', 'Approve', '--action', 'Manual'], dir, env());
    expect(code).toBe(1);
    expect(err).toMatch(/the approval at orders\/Approve\/Manual is no longer open.*\[codepipeline.approval-expired\]/);
  });
});

describe('exitCodeFor', () => {
  it.each([
    [{ status: 'success' as const }, 0],
    [{ status: 'cancelled' as const }, 130],
    [{ status: 'failure' as const, error: { code: 'step.inputs', message: '' } }, 2],
    [{ status: 'failure' as const, error: { code: 'codedeploy.unknown-application', message: '' } }, 2],
    [{ status: 'failure' as const, error: { code: 'aws.credentials-expired', message: '' } }, 3],
    [{ status: 'failure' as const, error: { code: 'codedeploy.failed', message: '' } }, 1],
    [{ status: 'timed-out' as const, error: { code: 'codedeploy.timeout', message: '' } }, 1],
  ])('%j → %i', (result, code) => {
    expect(exitCodeFor(result)).toBe(code);
  });
});
