// The codedeploy step with the real SDK client over the wire: a loopback server speaks CodeDeploy's
// JSON 1.1 protocol (X-Amz-Target, epoch-second timestamps, __type errors), so the request bodies
// the step sends and the answers it parses are the real serialisation, not a stub's objects.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runStepInProcess } from '../../../core/src/executors/local.js';
import { codedeployStep } from '../../src/codedeploy/index.js';
import { startAwsStandIn, type AwsStandIn } from '../../../test/support/aws-stand-in.js';

let aws: AwsStandIn;
let endpoint = '';
let dir = '';
let polls = 0;
beforeAll(async () => {
  aws = await startAwsStandIn();
  endpoint = aws.url;
  aws.handlers.set('CreateDeployment', () => ({ deploymentId: 'd-WIRE0001' }));
  aws.handlers.set('GetDeployment', (input) => {
    polls += 1;
    if (polls === 1) return { error: 'ThrottlingException', body: { message: 'Rate exceeded' } };
    return {
      deploymentInfo: {
        deploymentId: input.deploymentId,
        applicationName: 'orders',
        deploymentGroupName: 'prod',
        status: polls < 3 ? 'InProgress' : 'Succeeded',
        createTime: 1764496800.123,
        completeTime: polls < 3 ? undefined : 1764497100.5,
        deploymentOverview: polls < 3 ? { Pending: 1, InProgress: 1, Succeeded: 0, Failed: 0, Skipped: 0, Ready: 0 } : { Pending: 0, InProgress: 0, Succeeded: 2, Failed: 0, Skipped: 0, Ready: 0 },
        computePlatform: 'Server',
      },
    };
  });
  dir = await mkdtemp(path.join(os.tmpdir(), 'shipgate-cd-wire-'));
});
afterAll(async () => {
  await aws?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('codedeploy step over the wire', () => {
  it('sends the revision as CodeDeploy expects it, signs with the step environment’s keys, and follows to Succeeded', async () => {
    const result = await runStepInProcess(
      codedeployStep,
      { application: 'orders', 'deployment-group': 'prod', bucket: 'acme-releases', key: 'orders/orders-1.4.2.zip', 'object-version': 'v42', etag: '"9b2cf535f27731c974343645a3985328"', endpoint, 'poll-interval': '1ms', version: '1.4.2' },
      { cwd: dir, env: { AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'AKIDSTEPENV', AWS_SECRET_ACCESS_KEY: 'secret' } },
    );
    expect(result.error).toBeUndefined();
    expect(result.outputs).toMatchObject({ 'deployment-id': 'd-WIRE0001', status: 'Succeeded' });
    const create = aws.calls.find((r) => r.target.endsWith('.CreateDeployment'))!;
    expect(create.input).toMatchObject({
      applicationName: 'orders',
      deploymentGroupName: 'prod',
      revision: { revisionType: 'S3', s3Location: { bucket: 'acme-releases', key: 'orders/orders-1.4.2.zip', bundleType: 'zip', version: 'v42', eTag: '"9b2cf535f27731c974343645a3985328"' } },
    });
    expect(create.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDSTEPENV\/\d{8}\/eu-west-1\/codedeploy\/aws4_request/);
    expect(aws.calls.filter((r) => r.target.endsWith('.GetDeployment'))).toHaveLength(3); // one throttled, retried
    expect(result.logs).toContain('d-WIRE0001: targets 1 in progress, 1 pending');
    expect(result.logs).toContain('d-WIRE0001: targets 2 succeeded');
  });
});
