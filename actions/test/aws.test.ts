// actions/codedeploy and actions/codepipeline from the bundle against a loopback endpoint
// speaking the AWS JSON 1.1 protocol: the real SDK in the bundle signs and sends the calls.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fakeAwsEnv, startAwsStandIn, type AwsStandIn } from '../../pipelines/test/support/aws-stand-in.js';
import { bundledJob, removeJob, runBundledAction, type BundledJob } from './runner.js';

let job: BundledJob;
let aws: AwsStandIn;

beforeAll(async () => {
  job = bundledJob();
  aws = await startAwsStandIn();
});
afterAll(async () => {
  removeJob(job);
  await aws.close();
});

const revision = { application: 'orders', 'deployment-group': 'production', bucket: 'acme-releases', key: 'orders/1.4.2.zip', 'object-version': 'v42', version: '1.4.2', 'poll-interval': '10ms' };

describe('actions/codedeploy', () => {
  it('creates the deployment, follows it to Succeeded, outputs and records it (endpoint from AWS_ENDPOINT_URL_CODEDEPLOY)', async () => {
    aws.calls.length = 0;
    let polls = 0;
    aws.handlers.set('CreateDeployment', () => ({ deploymentId: 'd-ACTION001' }));
    aws.handlers.set('GetDeployment', (input) => ({ deploymentInfo: { deploymentId: input.deploymentId, status: (polls += 1) < 2 ? 'InProgress' : 'Succeeded' } }));
    const run = await runBundledAction('codedeploy', { ...job, event: 'tag-push', inputs: revision, env: { ...fakeAwsEnv, AWS_ENDPOINT_URL_CODEDEPLOY: aws.url } });
    expect(run.errors).toEqual([]);
    expect(run.code).toBe(0);
    expect(run.outputs).toMatchObject({ 'deployment-id': 'd-ACTION001', status: 'Succeeded', outcome: 'succeeded' });
    const create = aws.calls.find((c) => c.target === 'CodeDeploy_20141006.CreateDeployment')!;
    expect(create.input).toMatchObject({ applicationName: 'orders', deploymentGroupName: 'production', revision: { revisionType: 'S3', s3Location: { bucket: 'acme-releases', key: 'orders/1.4.2.zip', version: 'v42', bundleType: 'zip' } } });
    expect(create.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDFAKEKEYEXAMPLE\/\d{8}\/eu-west-1\/codedeploy\/aws4_request/);
    expect(run.summary).toContain('Succeeded');
    const record = JSON.parse(readFileSync(path.join(job.workspace, '.shipgate', 'state', 'deployments.jsonl'), 'utf8').trim().split('\n').at(-1)!) as Record<string, unknown>;
    expect(record).toMatchObject({ service: 'orders', environment: 'production', version: '1.4.2', outcome: 'succeeded', deploymentId: 'd-ACTION001' });
  });

  it('a failed deployment fails the job with CodeDeploy\'s reason (endpoint input)', async () => {
    aws.handlers.set('CreateDeployment', () => ({ deploymentId: 'd-ACTION002' }));
    aws.handlers.set('GetDeployment', (input) => ({ deploymentInfo: { deploymentId: input.deploymentId, status: 'Failed', errorInformation: { code: 'HEALTH_CONSTRAINTS', message: 'too many instances failed' } } }));
    aws.handlers.set('ListDeploymentTargets', () => ({ targetIds: [] }));
    const run = await runBundledAction('codedeploy', { ...job, inputs: { ...revision, endpoint: aws.url }, env: fakeAwsEnv });
    expect(run.code).toBe(1);
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]?.title).toBe('shipgate codedeploy: codedeploy.failed');
    expect(run.errors[0]?.message).toContain('HEALTH_CONSTRAINTS');
    expect(run.outputs['deployment-id']).toBe('d-ACTION002');
  });

  it('names a missing IAM permission', async () => {
    aws.handlers.set('CreateDeployment', () => ({ error: 'AccessDeniedException', body: { message: 'User: arn:aws:sts::111122223333:assumed-role/gha-deploy/run is not authorized to perform: codedeploy:CreateDeployment on resource: arn:aws:codedeploy:eu-west-1:111122223333:deploymentgroup:orders/production' } }));
    const run = await runBundledAction('codedeploy', { ...job, inputs: { ...revision, endpoint: aws.url }, env: fakeAwsEnv });
    expect(run.code).toBe(1);
    expect(run.errors[0]?.message).toMatch(/codedeploy:CreateDeployment/);
  });
});

describe('actions/codepipeline', () => {
  it('starts an execution with variables and follows it to Succeeded', async () => {
    aws.calls.length = 0;
    let polls = 0;
    aws.handlers.set('StartPipelineExecution', () => ({ pipelineExecutionId: 'e-0001-aaaa' }));
    aws.handlers.set('GetPipelineExecution', (input) => ({ pipelineExecution: { pipelineName: input.pipelineName, pipelineExecutionId: input.pipelineExecutionId, status: (polls += 1) < 2 ? 'InProgress' : 'Succeeded' } }));
    aws.handlers.set('ListActionExecutions', () => ({ actionExecutionDetails: [] }));
    aws.handlers.set('GetPipelineState', () => ({ pipelineName: 'orders-release', stageStates: [] }));
    const run = await runBundledAction('codepipeline', {
      ...job,
      inputs: { pipeline: 'orders-release', variables: '{"IMAGE_DIGEST":"sha256:abc"}', 'poll-interval': '10ms' },
      env: { ...fakeAwsEnv, AWS_ENDPOINT_URL_CODEPIPELINE: aws.url },
    });
    expect(run.errors).toEqual([]);
    expect(run.code).toBe(0);
    expect(run.outputs).toMatchObject({ 'execution-id': 'e-0001-aaaa', status: 'Succeeded' });
    expect(run.outputs.url).toContain('orders-release');
    const start = aws.calls.find((c) => c.target === 'CodePipeline_20150709.StartPipelineExecution')!;
    expect(start.input).toMatchObject({ name: 'orders-release', variables: [{ name: 'IMAGE_DIGEST', value: 'sha256:abc' }] });
    expect(start.authorization).toMatch(/\/eu-west-1\/codepipeline\/aws4_request/);
  });

  it('approves the manual approval waiting in a stage', async () => {
    aws.calls.length = 0;
    aws.handlers.set('GetPipelineState', () => ({
      pipelineName: 'orders-release',
      stageStates: [{ stageName: 'Production', latestExecution: { pipelineExecutionId: 'e-0002-bbbb', status: 'InProgress' }, actionStates: [{ actionName: 'Approve', latestExecution: { status: 'InProgress', token: 'tok-1234' } }] }],
    }));
    aws.handlers.set('PutApprovalResult', () => ({ approvedAt: 1764580000 }));
    const run = await runBundledAction('codepipeline', { ...job, inputs: { pipeline: 'orders-release', operation: 'approve', stage: 'Production', action: 'Approve', summary: 'approved in Slack by U0ALICE', endpoint: aws.url }, env: fakeAwsEnv });
    expect(run.errors).toEqual([]);
    expect(run.code).toBe(0);
    expect(run.outputs.status).toBe('Approved');
    const put = aws.calls.find((c) => c.target === 'CodePipeline_20150709.PutApprovalResult')!;
    expect(put.input).toEqual({ pipelineName: 'orders-release', stageName: 'Production', actionName: 'Approve', token: 'tok-1234', result: { status: 'Approved', summary: 'approved in Slack by U0ALICE' } });
  });
});
