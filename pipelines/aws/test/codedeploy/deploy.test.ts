// CodeDeploy deployments against aws-sdk-client-mock: the real SDK clients and commands, answers
// shaped like the CodeDeploy and ECS APIs' (GetDeployment's deploymentInfo, BatchGetDeploymentTargets'
// instanceTarget lifecycle events with diagnostics…), a fake clock so a 30-minute deployment takes
// milliseconds.
import { afterEach, describe, expect, it } from '@jest/globals';
import { mockClient } from 'aws-sdk-client-mock';
import {
  BatchGetDeploymentTargetsCommand,
  BatchGetDeploymentsCommand,
  CodeDeployClient,
  CodeDeployServiceException,
  CreateDeploymentCommand,
  DeploymentLimitExceededException,
  GetApplicationRevisionCommand,
  GetDeploymentCommand,
  GetDeploymentGroupCommand,
  ListDeploymentTargetsCommand,
  ListDeploymentsCommand,
  StopDeploymentCommand,
  type DeploymentInfo,
} from '@aws-sdk/client-codedeploy';
import { DescribeTaskDefinitionCommand, ECSClient, RegisterTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import { deployCodeDeploy } from '../../src/codedeploy/deploy.js';
import { rollbackCodeDeploy } from '../../src/codedeploy/rollback.js';
import { fakeClock } from '../../src/sdk/index.js';
import { ShipgateError } from '../../../protocol/src/errors.js';

const cd = mockClient(CodeDeployClient);
const ecs = mockClient(ECSClient);
afterEach(() => {
  cd.reset();
  ecs.reset();
});

const client = () => new CodeDeployClient({ region: 'eu-west-1' });
const revision = { kind: 's3' as const, bucket: 'releases', key: 'orders/orders-1.4.2.zip', bundleType: 'zip' as const, objectVersion: 'v42' };
const fast = { attempts: 3, initialDelayMs: 1, maxDelayMs: 2 };

function info(status: DeploymentInfo['status'], extra: Partial<DeploymentInfo> = {}): { deploymentInfo: DeploymentInfo } {
  return {
    deploymentInfo: {
      applicationName: 'orders',
      deploymentGroupName: 'prod',
      deploymentConfigName: 'CodeDeployDefault.OneAtATime',
      deploymentId: 'd-7QX1ABCDE',
      status,
      createTime: new Date('2026-11-30T10:00:00Z'),
      creator: 'user',
      computePlatform: 'Server',
      revision: { revisionType: 'S3', s3Location: { bucket: 'releases', key: 'orders/orders-1.4.2.zip', bundleType: 'zip', version: 'v42' } },
      ...extra,
    },
  };
}
const overview = (o: Partial<Record<'Pending' | 'InProgress' | 'Succeeded' | 'Failed' | 'Skipped' | 'Ready', number>>) => ({ Pending: 0, InProgress: 0, Succeeded: 0, Failed: 0, Skipped: 0, Ready: 0, ...o });
const failedTarget = {
  deploymentTargets: [
    {
      deploymentTargetType: 'InstanceTarget' as const,
      instanceTarget: {
        deploymentId: 'd-7QX1ABCDE',
        targetId: 'i-0abc1234def567890',
        targetArn: 'arn:aws:ec2:eu-west-1:111122223333:instance/i-0abc1234def567890',
        status: 'Failed' as const,
        lastUpdatedAt: new Date('2026-11-30T10:03:00Z'),
        lifecycleEvents: [
          { lifecycleEventName: 'ApplicationStop', status: 'Succeeded' as const },
          { lifecycleEventName: 'BeforeInstall', status: 'Succeeded' as const },
          {
            lifecycleEventName: 'ValidateService',
            status: 'Failed' as const,
            diagnostics: { errorCode: 'ScriptFailed' as const, scriptName: 'scripts/health-check.sh', message: 'Script at specified location: scripts/health-check.sh run as user root failed with exit code 7', logTail: '[stdout]checking http://localhost:8080/healthz\n[stderr]curl: (7) Failed to connect to localhost port 8080' },
          },
        ],
      },
    },
  ],
};

describe('deployCodeDeploy', () => {
  it('creates the deployment and follows it to Succeeded, logging status and target counts', async () => {
    cd.on(CreateDeploymentCommand).resolves({ deploymentId: 'd-7QX1ABCDE' });
    cd.on(GetDeploymentCommand)
      .resolvesOnce(info('Created'))
      .resolvesOnce(info('InProgress', { deploymentOverview: overview({ Pending: 1, InProgress: 1 }) }))
      .resolvesOnce(info('InProgress', { deploymentOverview: overview({ Succeeded: 1, InProgress: 1 }) }))
      .resolves(info('Succeeded', { deploymentOverview: overview({ Succeeded: 2 }), completeTime: new Date('2026-11-30T10:05:00Z') }));
    const lines: string[] = [];
    const clock = fakeClock();
    const result = await deployCodeDeploy({ application: 'orders', deploymentGroup: 'prod', revision, client: client(), clock, pollIntervalMs: 10_000, log: (l) => lines.push(l) });

    expect(result).toMatchObject({ deploymentId: 'd-7QX1ABCDE', status: 'Succeeded', outcome: 'succeeded', timedOut: false, region: 'eu-west-1' });
    expect(result.url).toBe('https://eu-west-1.console.aws.amazon.com/codesuite/codedeploy/deployments/d-7QX1ABCDE?region=eu-west-1');
    expect(cd.commandCalls(CreateDeploymentCommand)[0]!.args[0].input).toMatchObject({
      applicationName: 'orders',
      deploymentGroupName: 'prod',
      revision: { revisionType: 'S3', s3Location: { bucket: 'releases', key: 'orders/orders-1.4.2.zip', bundleType: 'zip', version: 'v42' } },
    });
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/d-7QX1ABCDE: deploying s3:\/\/releases\/orders\/orders-1.4.2.zip \(version v42\) to orders\/prod/),
        'd-7QX1ABCDE: InProgress',
        'd-7QX1ABCDE: targets 1 in progress, 1 pending',
        'd-7QX1ABCDE: targets 1 succeeded, 1 in progress',
        'd-7QX1ABCDE: Succeeded',
      ]),
    );
    expect(clock.slept).toEqual([10_000, 10_000, 10_000]);
    expect(cd.commandCalls(StopDeploymentCommand)).toHaveLength(0);
  });

  it('retries a throttled GetDeployment and carries on', async () => {
    cd.on(CreateDeploymentCommand).resolves({ deploymentId: 'd-7QX1ABCDE' });
    cd.on(GetDeploymentCommand)
      .rejectsOnce(new CodeDeployServiceException({ name: 'ThrottlingException', message: 'Rate exceeded', $fault: 'client', $metadata: { httpStatusCode: 400 } }))
      .resolves(info('Succeeded', { deploymentOverview: overview({ Succeeded: 1 }) }));
    const lines: string[] = [];
    const result = await deployCodeDeploy({ application: 'orders', deploymentGroup: 'prod', revision, client: client(), clock: fakeClock(), retry: fast, log: (l) => lines.push(l) });
    expect(result.status).toBe('Succeeded');
    expect(cd.commandCalls(GetDeploymentCommand)).toHaveLength(2);
    expect(lines).toContainEqual(expect.stringMatching(/GetDeployment: ThrottlingException, retry 1/));
  });

  it('reports the failed lifecycle event with its diagnostics and follows the automatic rollback', async () => {
    cd.on(CreateDeploymentCommand).resolves({ deploymentId: 'd-7QX1ABCDE' });
    cd.on(GetDeploymentCommand, { deploymentId: 'd-7QX1ABCDE' })
      .resolvesOnce(info('InProgress', { deploymentOverview: overview({ InProgress: 1 }) }))
      .resolves(
        info('Failed', {
          deploymentOverview: overview({ Failed: 1 }),
          errorInformation: { code: 'HEALTH_CONSTRAINTS' as const, message: 'The overall deployment failed because too many individual instances failed deployment, too few healthy instances are available for deployment, or some instances in your deployment group are experiencing problems.' },
          rollbackInfo: { rollbackDeploymentId: 'd-ROLLBACK1', rollbackMessage: 'Automatic rollback triggered by DEPLOYMENT_FAILURE' },
        }),
      );
    cd.on(GetDeploymentCommand, { deploymentId: 'd-ROLLBACK1' })
      .resolvesOnce(info('InProgress', { deploymentId: 'd-ROLLBACK1', creator: 'codeDeployRollback', deploymentOverview: overview({ InProgress: 1 }) }))
      .resolves(info('Succeeded', { deploymentId: 'd-ROLLBACK1', creator: 'codeDeployRollback', deploymentOverview: overview({ Succeeded: 1 }), rollbackInfo: { rollbackTriggeringDeploymentId: 'd-7QX1ABCDE' } }));
    cd.on(ListDeploymentTargetsCommand).resolves({ targetIds: ['i-0abc1234def567890'] });
    cd.on(BatchGetDeploymentTargetsCommand).resolves(failedTarget);
    const lines: string[] = [];
    const result = await deployCodeDeploy({ application: 'orders', deploymentGroup: 'prod', revision, client: client(), clock: fakeClock(), log: (l) => lines.push(l) });

    expect(result).toMatchObject({ status: 'Failed', outcome: 'rolled-back', rollbackDeploymentId: 'd-ROLLBACK1', rollbackStatus: 'Succeeded', error: expect.stringMatching(/^HEALTH_CONSTRAINTS: The overall deployment failed/) });
    expect(result.failures).toEqual([expect.objectContaining({ targetId: 'i-0abc1234def567890', event: 'ValidateService', errorCode: 'ScriptFailed', scriptName: 'scripts/health-check.sh' })]);
    const failureLine = lines.findIndex((l) => l.includes('i-0abc1234def567890: ValidateService failed — ScriptFailed: script scripts/health-check.sh'));
    expect(failureLine).toBeGreaterThan(-1);
    expect(lines[failureLine + 2]).toMatch(/curl: \(7\) Failed to connect/);
    expect(lines).toContainEqual(expect.stringMatching(/CodeDeploy is rolling back with deployment d-ROLLBACK1/));
    expect(lines).toContain('rollback d-ROLLBACK1: Succeeded');
    // the failure is reported once, not on every poll
    expect(lines.filter((l) => l.includes('ValidateService failed'))).toHaveLength(1);
  });

  it('stops a deployment that runs past the timeout, with automatic rollback', async () => {
    cd.on(CreateDeploymentCommand).resolves({ deploymentId: 'd-7QX1ABCDE' });
    cd.on(StopDeploymentCommand).resolves({ status: 'Pending', statusMessage: 'Stop request is pending' });
    let stopped = false;
    cd.on(StopDeploymentCommand).callsFake(async () => {
      stopped = true;
      return { status: 'Pending' };
    });
    cd.on(GetDeploymentCommand, { deploymentId: 'd-7QX1ABCDE' }).callsFake(async () =>
      stopped
        ? info('Stopped', { deploymentOverview: overview({ Succeeded: 1 }), rollbackInfo: { rollbackDeploymentId: 'd-ROLLBACK2' }, errorInformation: { code: 'MANUAL_STOP', message: 'The deployment was stopped.' } })
        : info('InProgress', { deploymentOverview: overview({ Succeeded: 1, InProgress: 1 }) }),
    );
    cd.on(GetDeploymentCommand, { deploymentId: 'd-ROLLBACK2' }).resolves(info('Succeeded', { deploymentId: 'd-ROLLBACK2' }));
    cd.on(ListDeploymentTargetsCommand).resolves({ targetIds: [] });
    const clock = fakeClock();
    const result = await deployCodeDeploy({ application: 'orders', deploymentGroup: 'prod', revision, client: client(), clock, timeoutMs: 60_000, pollIntervalMs: 15_000, log: () => {} });

    expect(cd.commandCalls(StopDeploymentCommand).map((c) => c.args[0].input)).toEqual([{ deploymentId: 'd-7QX1ABCDE', autoRollbackEnabled: true }]);
    expect(result).toMatchObject({ timedOut: true, status: 'Stopped', outcome: 'rolled-back', rollbackDeploymentId: 'd-ROLLBACK2' });
    expect(clock.now()).toBeGreaterThanOrEqual(60_000);
    expect(clock.now()).toBeLessThan(60_000 + 15_000);
  });

  it('waits for CodeDeploy to name the automatic rollback when it lags behind the failure', async () => {
    cd.on(CreateDeploymentCommand).resolves({ deploymentId: 'd-7QX1ABCDE' });
    const failed = info('Failed', { autoRollbackConfiguration: { enabled: true, events: ['DEPLOYMENT_FAILURE'] }, errorInformation: { code: 'HEALTH_CONSTRAINTS' as const, message: 'too many failed' } });
    cd.on(GetDeploymentCommand, { deploymentId: 'd-7QX1ABCDE' })
      .resolvesOnce(failed)
      .resolvesOnce(failed)
      .resolves({ deploymentInfo: { ...failed.deploymentInfo, rollbackInfo: { rollbackDeploymentId: 'd-LATE' } } });
    cd.on(GetDeploymentCommand, { deploymentId: 'd-LATE' }).resolves(info('Succeeded', { deploymentId: 'd-LATE' }));
    cd.on(ListDeploymentTargetsCommand).resolves({ targetIds: [] });
    const result = await deployCodeDeploy({ application: 'orders', deploymentGroup: 'prod', revision, client: client(), clock: fakeClock() });
    expect(result).toMatchObject({ outcome: 'rolled-back', rollbackDeploymentId: 'd-LATE', rollbackStatus: 'Succeeded' });
  });

  it('carries on when the deployment finished just as the timeout stopped it', async () => {
    cd.on(CreateDeploymentCommand).resolves({ deploymentId: 'd-7QX1ABCDE' });
    let stopAsked = false;
    cd.on(StopDeploymentCommand).callsFake(async () => {
      stopAsked = true;
      throw new CodeDeployServiceException({ name: 'DeploymentAlreadyCompletedException', message: 'The deployment is already complete', $fault: 'client', $metadata: { httpStatusCode: 400 } });
    });
    cd.on(GetDeploymentCommand).callsFake(async () => (stopAsked ? info('Succeeded') : info('InProgress')));
    const lines: string[] = [];
    const result = await deployCodeDeploy({ application: 'orders', deploymentGroup: 'prod', revision, client: client(), clock: fakeClock(), timeoutMs: 30_000, log: (l) => lines.push(l) });
    expect(result).toMatchObject({ status: 'Succeeded', timedOut: true });
    expect(lines).toContainEqual(expect.stringMatching(/not stopped .*already finished/));
  });

  it('stops the deployment when the run is cancelled, and rejects with the reason', async () => {
    cd.on(CreateDeploymentCommand).resolves({ deploymentId: 'd-7QX1ABCDE' });
    cd.on(StopDeploymentCommand).resolves({ status: 'Pending' });
    const controller = new AbortController();
    let polls = 0;
    cd.on(GetDeploymentCommand).callsFake(async () => {
      polls += 1;
      if (polls === 2) controller.abort(new Error('cancelled by Ctrl-C'));
      return info('InProgress', { deploymentOverview: overview({ InProgress: 1 }) });
    });
    await expect(deployCodeDeploy({ application: 'orders', deploymentGroup: 'prod', revision, client: client(), clock: fakeClock(), signal: controller.signal })).rejects.toThrow('cancelled by Ctrl-C');
    expect(cd.commandCalls(StopDeploymentCommand).map((c) => c.args[0].input)).toEqual([{ deploymentId: 'd-7QX1ABCDE', autoRollbackEnabled: true }]);
    // the stop must not be sent with the aborted signal, or the SDK would drop it
    const stopOptions = (cd.commandCalls(StopDeploymentCommand)[0]!.args as unknown[])[1] as { abortSignal: AbortSignal };
    expect(stopOptions.abortSignal.aborted).toBe(false);
  });

  it('says a deployment is already in progress when CodeDeploy refuses another', async () => {
    cd.on(CreateDeploymentCommand).rejects(new DeploymentLimitExceededException({ message: 'The deployment group prod already has an active deployment d-OTHER', $metadata: { httpStatusCode: 400 } }));
    const error = (await deployCodeDeploy({ application: 'orders', deploymentGroup: 'prod', revision, client: client() }).catch((e: unknown) => e)) as ShipgateError;
    expect(error).toBeInstanceOf(ShipgateError);
    expect(error.code).toBe('codedeploy.deployment-in-progress');
    expect(error.message).toBe('deployment group orders/prod already has a deployment in progress');
    expect(cd.commandCalls(CreateDeploymentCommand)).toHaveLength(1);
  });

  it('names the missing permission and the deployment group when CreateDeployment is denied', async () => {
    cd.on(CreateDeploymentCommand).rejects(
      new CodeDeployServiceException({
        name: 'AccessDeniedException',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
        message: 'User: arn:aws:sts::111122223333:assumed-role/ci/gh-42 is not authorized to perform: codedeploy:CreateDeployment on resource: arn:aws:codedeploy:eu-west-1:111122223333:deploymentgroup:orders/prod',
      }),
    );
    const error = (await deployCodeDeploy({ application: 'orders', deploymentGroup: 'prod', revision, client: client() }).catch((e: unknown) => e)) as ShipgateError;
    expect(error.code).toBe('aws.access-denied');
    expect(error.message).toBe('missing permission: codedeploy:CreateDeployment on arn:aws:codedeploy:eu-west-1:111122223333:deploymentgroup:orders/prod');
  });

  it('ECS blue/green: registers a task definition revision on the new digest and deploys an AppSpec naming it', async () => {
    const digest = `sha256:${'9f'.repeat(32)}`;
    ecs.on(DescribeTaskDefinitionCommand).resolves({
      taskDefinition: {
        taskDefinitionArn: 'arn:aws:ecs:eu-west-1:111122223333:task-definition/orders:41',
        family: 'orders',
        revision: 41,
        status: 'ACTIVE',
        networkMode: 'awsvpc',
        requiresCompatibilities: ['FARGATE'],
        compatibilities: ['EC2', 'FARGATE'],
        cpu: '256',
        memory: '512',
        executionRoleArn: 'arn:aws:iam::111122223333:role/ecsTaskExecutionRole',
        containerDefinitions: [{ name: 'app', image: '111122223333.dkr.ecr.eu-west-1.amazonaws.com/orders:1.4.1', portMappings: [{ containerPort: 8080 }], essential: true }],
      },
      tags: [],
    });
    ecs.on(RegisterTaskDefinitionCommand).resolves({ taskDefinition: { taskDefinitionArn: 'arn:aws:ecs:eu-west-1:111122223333:task-definition/orders:42', family: 'orders', revision: 42 } });
    cd.on(CreateDeploymentCommand).resolves({ deploymentId: 'd-ECS00001' });
    cd.on(GetDeploymentCommand).resolves(info('Succeeded', { deploymentId: 'd-ECS00001', computePlatform: 'ECS' }));
    cd.on(ListDeploymentTargetsCommand).resolves({ targetIds: ['orders-cluster:orders-svc'] });
    cd.on(BatchGetDeploymentTargetsCommand).resolves({
      deploymentTargets: [{ deploymentTargetType: 'ECSTarget', ecsTarget: { deploymentId: 'd-ECS00001', targetId: 'orders-cluster:orders-svc', status: 'Succeeded', lifecycleEvents: [] } }],
    });
    const lines: string[] = [];
    const result = await deployCodeDeploy({
      application: 'orders',
      deploymentGroup: 'prod-ecs',
      revision: { kind: 'ecs', taskDefinition: 'orders', container: 'app', port: 8080, image: digest },
      client: client(),
      ecsClient: new ECSClient({ region: 'eu-west-1' }),
      clock: fakeClock(),
      log: (l) => lines.push(l),
    });

    expect(ecs.commandCalls(DescribeTaskDefinitionCommand)[0]!.args[0].input).toEqual({ taskDefinition: 'orders', include: ['TAGS'] });
    const registered = ecs.commandCalls(RegisterTaskDefinitionCommand)[0]!.args[0].input;
    expect(registered.containerDefinitions?.[0]?.image).toBe(`111122223333.dkr.ecr.eu-west-1.amazonaws.com/orders@${digest}`);
    expect(registered).not.toHaveProperty('revision');
    const sent = cd.commandCalls(CreateDeploymentCommand)[0]!.args[0].input.revision!;
    expect(sent.revisionType).toBe('AppSpecContent');
    expect(JSON.parse(sent.appSpecContent!.content!).Resources[0].TargetService.Properties).toEqual({
      TaskDefinition: 'arn:aws:ecs:eu-west-1:111122223333:task-definition/orders:42',
      LoadBalancerInfo: { ContainerName: 'app', ContainerPort: 8080 },
    });
    expect(result).toMatchObject({ status: 'Succeeded', taskDefinitionArn: 'arn:aws:ecs:eu-west-1:111122223333:task-definition/orders:42' });
    expect(lines).toContainEqual(expect.stringMatching(/registered task definition orders:42 \(app → .*orders@sha256:9f9f/));
    expect(lines).toContain('d-ECS00001: ECS orders-cluster:orders-svc Succeeded');
  });
});

describe('rollbackCodeDeploy', () => {
  const s3 = (key: string, version: string) => ({ revisionType: 'S3' as const, s3Location: { bucket: 'releases', key, bundleType: 'zip' as const, version } });
  const done = (id: string, day: string, rev: ReturnType<typeof s3>) => ({ ...info('Succeeded', { deploymentId: id, revision: rev, completeTime: new Date(`2026-11-${day}T10:00:00Z`) }).deploymentInfo });

  it('redeploys the newest succeeded revision other than the current one and says from what to what', async () => {
    cd.on(GetDeploymentGroupCommand).resolves({
      deploymentGroupInfo: { applicationName: 'orders', deploymentGroupName: 'prod', targetRevision: s3('orders-3.zip', 'v3'), lastSuccessfulDeployment: { deploymentId: 'd-3', status: 'Succeeded' } },
    });
    cd.on(ListDeploymentsCommand).resolves({ deployments: ['d-3', 'd-2', 'd-1'] });
    cd.on(BatchGetDeploymentsCommand).resolves({ deploymentsInfo: [done('d-1', '01', s3('orders-1.zip', 'v1')), done('d-3', '03', s3('orders-3.zip', 'v3')), done('d-2', '02', s3('orders-2.zip', 'v2'))] });
    cd.on(CreateDeploymentCommand).resolves({ deploymentId: 'd-BACK' });
    cd.on(GetDeploymentCommand).resolves(info('Succeeded', { deploymentId: 'd-BACK' }));
    const result = await rollbackCodeDeploy({ application: 'orders', deploymentGroup: 'prod', client: client(), clock: fakeClock(), signal: new AbortController().signal });

    expect(cd.commandCalls(ListDeploymentsCommand)[0]!.args[0].input).toEqual({ applicationName: 'orders', deploymentGroupName: 'prod', includeOnlyStatuses: ['Succeeded'] });
    expect(cd.commandCalls(CreateDeploymentCommand)[0]!.args[0].input.revision).toEqual(s3('orders-2.zip', 'v2'));
    expect(result.from).toMatchObject({ deploymentId: 'd-3', description: 's3://releases/orders-3.zip (version v3)' });
    expect(result.to).toMatchObject({ deploymentId: 'd-2', description: 's3://releases/orders-2.zip (version v2)' });
    expect(result.message).toBe('rolled orders/prod back from s3://releases/orders-3.zip (version v3) to s3://releases/orders-2.zip (version v2) (deployment d-BACK)');
  });

  it('fetches an ECS AppSpec from GetApplicationRevision, since GetDeployment never returns its content', async () => {
    const appspec = (sha256: string) => ({ revisionType: 'AppSpecContent' as const, appSpecContent: { sha256 } });
    cd.on(GetDeploymentGroupCommand).resolves({ deploymentGroupInfo: { targetRevision: appspec('bbb') } });
    cd.on(ListDeploymentsCommand).resolves({ deployments: ['d-2', 'd-1'] });
    cd.on(BatchGetDeploymentsCommand).resolves({
      deploymentsInfo: [
        { deploymentId: 'd-2', status: 'Succeeded', completeTime: new Date('2026-11-02'), revision: appspec('bbb') },
        { deploymentId: 'd-1', status: 'Succeeded', completeTime: new Date('2026-11-01'), revision: appspec('aaa') },
      ],
    });
    const content = '{"version":0,"Resources":[{"TargetService":{"Type":"AWS::ECS::Service","Properties":{"TaskDefinition":"arn:aws:ecs:eu-west-1:1:task-definition/orders:40","LoadBalancerInfo":{"ContainerName":"app","ContainerPort":8080}}}}]}';
    cd.on(GetApplicationRevisionCommand).resolves({ applicationName: 'orders', revision: { revisionType: 'AppSpecContent', appSpecContent: { content, sha256: 'aaa' } } });
    cd.on(CreateDeploymentCommand).resolves({ deploymentId: 'd-BACK' });
    cd.on(GetDeploymentCommand).resolves(info('Succeeded', { deploymentId: 'd-BACK' }));
    const result = await rollbackCodeDeploy({ application: 'orders', deploymentGroup: 'prod-ecs', client: client(), clock: fakeClock(), signal: new AbortController().signal });
    expect(cd.commandCalls(CreateDeploymentCommand)[0]!.args[0].input.revision).toEqual({ revisionType: 'AppSpecContent', appSpecContent: { content, sha256: 'aaa' } });
    expect(result.to.description).toBe('task definition orders:40');
  });

  it('leaves a slow rollback running at the timeout instead of stopping it (stopping would bring back the bad revision)', async () => {
    cd.on(GetDeploymentGroupCommand).resolves({ deploymentGroupInfo: { targetRevision: s3('orders-2.zip', 'v2') } });
    cd.on(ListDeploymentsCommand).resolves({ deployments: ['d-2', 'd-1'] });
    cd.on(BatchGetDeploymentsCommand).resolves({ deploymentsInfo: [done('d-2', '02', s3('orders-2.zip', 'v2')), done('d-1', '01', s3('orders-1.zip', 'v1'))] });
    cd.on(CreateDeploymentCommand).resolves({ deploymentId: 'd-BACK' });
    cd.on(GetDeploymentCommand).resolves(info('InProgress', { deploymentId: 'd-BACK' }));
    const result = await rollbackCodeDeploy({ application: 'orders', deploymentGroup: 'prod', client: client(), clock: fakeClock(), timeoutMs: 60_000, signal: new AbortController().signal });
    expect(cd.commandCalls(StopDeploymentCommand)).toHaveLength(0);
    expect(result).toMatchObject({ timedOut: true, status: 'InProgress' });
    expect(result.message).toBe('rollback of orders/prod to s3://releases/orders-1.zip (version v1) is still in progress after the timeout (deployment d-BACK): not stopped, it goes on');
  });

  it('refuses when there is nothing earlier to go back to', async () => {
    cd.on(GetDeploymentGroupCommand).resolves({ deploymentGroupInfo: { targetRevision: s3('orders-1.zip', 'v1') } });
    cd.on(ListDeploymentsCommand).resolves({ deployments: ['d-1'] });
    cd.on(BatchGetDeploymentsCommand).resolves({ deploymentsInfo: [done('d-1', '01', s3('orders-1.zip', 'v1'))] });
    const error = (await rollbackCodeDeploy({ application: 'orders', deploymentGroup: 'prod', client: client(), signal: new AbortController().signal }).catch((e: unknown) => e)) as ShipgateError;
    expect(error.code).toBe('codedeploy.no-rollback-target');
    expect(cd.commandCalls(CreateDeploymentCommand)).toHaveLength(0);
  });
});
