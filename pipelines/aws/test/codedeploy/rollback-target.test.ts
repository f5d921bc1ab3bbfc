import { describe, expect, it } from '@jest/globals';
import type { DeploymentInfo, RevisionLocation } from '@aws-sdk/client-codedeploy';
import { chooseRevisionRollbackTarget } from '../../src/codedeploy/rollback-target.js';
import { describeRevision, ecsAppSpec, revisionKey } from '../../src/codedeploy/revision.js';

const s3 = (key: string, version?: string): RevisionLocation => ({ revisionType: 'S3', s3Location: { bucket: 'releases', key, bundleType: 'zip', ...(version ? { version } : {}) } });
const appspec = (sha256: string): RevisionLocation => ({ revisionType: 'AppSpecContent', appSpecContent: { sha256 } });
const deployment = (id: string, completed: string, revision: RevisionLocation | undefined, status = 'Succeeded'): DeploymentInfo => ({
  deploymentId: id,
  status: status as DeploymentInfo['status'],
  createTime: new Date(new Date(completed).getTime() - 60_000),
  completeTime: new Date(completed),
  ...(revision ? { revision } : {}),
});

describe('chooseRevisionRollbackTarget', () => {
  const v1 = s3('orders-1.zip', 'v1');
  const v2 = s3('orders-2.zip', 'v2');
  const v3 = s3('orders-3.zip', 'v3');
  it.each([
    {
      name: 'the newest succeeded deployment of another revision',
      deployments: [deployment('d-1', '2026-11-01', v1), deployment('d-3', '2026-11-03', v3), deployment('d-2', '2026-11-02', v2)],
      current: v3,
      expected: 'd-2',
      skipped: 1,
    },
    {
      name: 'skips every deployment of the current revision (deployed twice in a row)',
      deployments: [deployment('d-1', '2026-11-01', v1), deployment('d-2', '2026-11-02', v2), deployment('d-2b', '2026-11-04', v2)],
      current: v2,
      expected: 'd-1',
      skipped: 2,
    },
    {
      name: 'the same key in another S3 object version is another revision',
      deployments: [deployment('d-1', '2026-11-01', s3('orders.zip', 'a')), deployment('d-2', '2026-11-02', s3('orders.zip', 'b'))],
      current: s3('orders.zip', 'b'),
      expected: 'd-1',
      skipped: 1,
    },
    {
      name: 'ECS AppSpecs compared by sha256 (GetDeployment never returns the content)',
      deployments: [deployment('d-1', '2026-11-01', appspec('aaa')), deployment('d-2', '2026-11-02', appspec('bbb'))],
      current: appspec('bbb'),
      expected: 'd-1',
      skipped: 1,
    },
    {
      name: 'a deployment that is not Succeeded is never a target',
      deployments: [deployment('d-1', '2026-11-01', v1), deployment('d-2', '2026-11-02', v2, 'Failed'), deployment('d-3', '2026-11-03', v3)],
      current: v3,
      expected: 'd-1',
      skipped: 1,
    },
    {
      name: 'without a known current revision, the newest succeeded one',
      deployments: [deployment('d-1', '2026-11-01', v1), deployment('d-2', '2026-11-02', v2)],
      current: undefined,
      expected: 'd-2',
      skipped: 0,
    },
  ])('$name', ({ deployments, current, expected, skipped }) => {
    const choice = chooseRevisionRollbackTarget(deployments, current);
    expect(choice).toMatchObject({ found: true, skipped });
    expect(choice.found && choice.deployment.deploymentId).toBe(expected);
  });

  it.each([
    { name: 'no deployments at all', deployments: [], reason: /no succeeded deployment/ },
    { name: 'only the current revision', deployments: [deployment('d-1', '2026-11-01', s3('a.zip')), deployment('d-2', '2026-11-02', s3('a.zip'))], reason: /all deployed the current revision/ },
  ])('finds nothing with $name', ({ deployments, reason }) => {
    const choice = chooseRevisionRollbackTarget(deployments, s3('a.zip'));
    expect(choice.found).toBe(false);
    expect(!choice.found && choice.reason).toMatch(reason);
  });
});

describe('revisions', () => {
  it('the ECS AppSpec names the task definition, container and port', () => {
    expect(JSON.parse(ecsAppSpec({ taskDefinitionArn: 'arn:aws:ecs:eu-west-1:1:task-definition/orders:42', container: 'app', port: 8080 }))).toEqual({
      version: 0,
      Resources: [{ TargetService: { Type: 'AWS::ECS::Service', Properties: { TaskDefinition: 'arn:aws:ecs:eu-west-1:1:task-definition/orders:42', LoadBalancerInfo: { ContainerName: 'app', ContainerPort: 8080 } } } }],
    });
  });

  it.each([
    [s3('orders-2.zip', 'v2'), 's3://releases/orders-2.zip (version v2)'],
    [{ revisionType: 'AppSpecContent', appSpecContent: { content: ecsAppSpec({ taskDefinitionArn: 'arn:aws:ecs:eu-west-1:1:task-definition/orders:42', container: 'app', port: 80 }) } } as RevisionLocation, 'task definition orders:42'],
    [appspec('0123456789abcdef'), 'AppSpec sha256 0123456789ab'],
  ])('describes %j', (revision, text) => {
    expect(describeRevision(revision)).toBe(text);
  });

  it('tells revisions apart by location and version', () => {
    expect(revisionKey(s3('a.zip', '1'))).not.toBe(revisionKey(s3('a.zip', '2')));
    expect(revisionKey(s3('a.zip', '1'))).toBe(revisionKey(s3('a.zip', '1')));
  });
});
