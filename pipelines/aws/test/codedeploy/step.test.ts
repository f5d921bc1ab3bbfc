// The `codedeploy` step end to end in this process: inputs from `with:`, the SDK client the step
// builds itself (stubbed by aws-sdk-client-mock at the class), outputs, the summary, the deploy record
// in deployments.jsonl and the POST to a loopback server standing in for the Slack app.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { mockClient } from 'aws-sdk-client-mock';
import { CodeDeployClient, CreateDeploymentCommand, GetDeploymentCommand, ListDeploymentTargetsCommand, BatchGetDeploymentTargetsCommand, StopDeploymentCommand, GetDeploymentGroupCommand, ListDeploymentsCommand, BatchGetDeploymentsCommand } from '@aws-sdk/client-codedeploy';
import { runStepInProcess } from '../../../core/src/executors/local.js';
import { codedeployStep, digestOf, versionOf } from '../../src/codedeploy/index.js';
import { defaultRegistry } from '../../../cli/src/cli/steps.js';

const cd = mockClient(CodeDeployClient);
const posts: unknown[] = [];
const app = http.createServer((req, res) => {
  let body = '';
  req.on('data', (c: Buffer) => (body += c.toString()));
  req.on('end', () => {
    posts.push(JSON.parse(body));
    res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ id: 'dep-1' }));
  });
});
let env: Record<string, string> = {};
let dir = '';

beforeAll(async () => {
  await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
});
afterAll(async () => {
  app.closeAllConnections();
  await new Promise((resolve) => app.close(resolve));
});
beforeEach(async () => {
  posts.length = 0;
  dir = await mkdtemp(path.join(os.tmpdir(), 'shipgate-codedeploy-'));
  env = { AWS_REGION: 'eu-west-1', SHIPGATE_APP_URL: `http://127.0.0.1:${(app.address() as AddressInfo).port}`, SHIPGATE_API_TOKEN: 'token-1', SHIPGATE_DEPLOYER: 'alice' };
});
afterEach(async () => {
  cd.reset();
  await rm(dir, { recursive: true, force: true });
});

const inputs = { application: 'orders', 'deployment-group': 'prod', bucket: 'releases', key: 'orders-1.4.2.zip', 'object-version': 'v42', version: '1.4.2', environment: 'production', 'poll-interval': '1ms' };
const records = async () => (await readFile(path.join(dir, '.shipgate', 'state', 'deployments.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);

describe('codedeploy step', () => {
  it('is a built-in step', () => {
    expect(defaultRegistry().get('codedeploy')).toBe(codedeployStep);
  });

  it('deploys, sets outputs, and records the deployment on disk and with the Slack app', async () => {
    cd.on(CreateDeploymentCommand).resolves({ deploymentId: 'd-STEP0001' });
    cd.on(GetDeploymentCommand).resolvesOnce({ deploymentInfo: { deploymentId: 'd-STEP0001', status: 'InProgress' } }).resolves({ deploymentInfo: { deploymentId: 'd-STEP0001', status: 'Succeeded' } });
    const result = await runStepInProcess(codedeployStep, inputs, { cwd: dir, env });

    expect(result.status).toBe('success');
    expect(result.outputs).toMatchObject({ 'deployment-id': 'd-STEP0001', status: 'Succeeded', outcome: 'succeeded' });
    expect(result.summaries.join('\n')).toMatch(/CodeDeploy orders\/prod: Succeeded/);
    const [line] = await records();
    expect(line).toMatchObject({ service: 'orders', environment: 'production', version: '1.4.2', outcome: 'succeeded', deployer: 'alice', deploymentId: 'd-STEP0001', rollback: { kind: 'codedeploy', application: 'orders', deploymentGroup: 'prod', region: 'eu-west-1' } });
    expect(posts).toEqual([expect.objectContaining({ service: 'orders', environment: 'production', version: '1.4.2', outcome: 'succeeded' })]);
  });

  it("records the deployed commit and its commit time (DORA's lead time starts there) from the checkout", async () => {
    const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, encoding: 'utf8', env: { ...process.env, GIT_COMMITTER_DATE: '2026-03-01T10:15:00Z' } }).trim();
    git('init', '-q');
    await writeFile(path.join(dir, 'app.txt'), 'v1');
    git('add', '.');
    git('-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-qm', 'one');
    const sha = git('rev-parse', 'HEAD');
    cd.on(CreateDeploymentCommand).resolves({ deploymentId: 'd-COMMIT' });
    cd.on(GetDeploymentCommand).resolves({ deploymentInfo: { deploymentId: 'd-COMMIT', status: 'Succeeded' } });
    const result = await runStepInProcess(codedeployStep, inputs, { cwd: dir, env, ci: { provider: 'local', sha } });
    expect(result.status).toBe('success');
    expect((await records())[0]).toMatchObject({ commit: sha, commitAt: '2026-03-01T10:15:00+00:00' });
    expect(posts).toEqual([expect.objectContaining({ commit: sha, commitAt: '2026-03-01T10:15:00+00:00' })]);
  });

  it('fails the step when the deployment failed, recording it as rolled back', async () => {
    cd.on(CreateDeploymentCommand).resolves({ deploymentId: 'd-STEP0002' });
    cd.on(GetDeploymentCommand, { deploymentId: 'd-STEP0002' }).resolves({
      deploymentInfo: { deploymentId: 'd-STEP0002', status: 'Failed', errorInformation: { code: 'HEALTH_CONSTRAINTS', message: 'The overall deployment failed because too many individual instances failed deployment' }, rollbackInfo: { rollbackDeploymentId: 'd-STEP0003' } },
    });
    cd.on(GetDeploymentCommand, { deploymentId: 'd-STEP0003' }).resolves({ deploymentInfo: { deploymentId: 'd-STEP0003', status: 'Succeeded' } });
    cd.on(ListDeploymentTargetsCommand).resolves({ targetIds: [] });
    cd.on(BatchGetDeploymentTargetsCommand).resolves({ deploymentTargets: [] });
    const result = await runStepInProcess(codedeployStep, inputs, { cwd: dir, env });

    expect(result.status).toBe('failure');
    expect(result.error).toMatchObject({ code: 'codedeploy.failed', message: expect.stringMatching(/d-STEP0002 failed: HEALTH_CONSTRAINTS.*rolled back by d-STEP0003: Succeeded/) });
    expect(result.outputs).toMatchObject({ outcome: 'rolled-back', 'rollback-deployment-id': 'd-STEP0003' });
    expect((await records())[0]).toMatchObject({ outcome: 'rolled-back', detail: 'rolled back by d-STEP0003 (Succeeded)' });
  });

  it('fails with codedeploy.timeout after stopping a deployment that ran too long', async () => {
    cd.on(CreateDeploymentCommand).resolves({ deploymentId: 'd-SLOW' });
    let stopped = false;
    cd.on(StopDeploymentCommand).callsFake(async () => {
      stopped = true;
      return { status: 'Pending' };
    });
    cd.on(GetDeploymentCommand).callsFake(async () => ({ deploymentInfo: { deploymentId: 'd-SLOW', status: stopped ? 'Stopped' : 'InProgress' } }));
    cd.on(ListDeploymentTargetsCommand).resolves({ targetIds: [] });
    const result = await runStepInProcess(codedeployStep, { ...inputs, timeout: '20ms' }, { cwd: dir, env });
    expect(result.status).toBe('failure');
    expect(result.error).toMatchObject({ code: 'codedeploy.timeout', message: 'deployment d-SLOW did not finish within 20ms: stopped, rollback requested' });
    expect(cd.commandCalls(StopDeploymentCommand)[0]!.args[0].input).toEqual({ deploymentId: 'd-SLOW', autoRollbackEnabled: true });
    expect((await records())[0]).toMatchObject({ outcome: 'failed', deploymentId: 'd-SLOW' });
  });

  it('records a cancelled deployment after stopping it', async () => {
    const controller = new AbortController();
    cd.on(CreateDeploymentCommand).resolves({ deploymentId: 'd-CANCEL' });
    cd.on(StopDeploymentCommand).resolves({ status: 'Pending' });
    cd.on(GetDeploymentCommand).callsFake(async () => {
      controller.abort(new Error('Ctrl-C'));
      return { deploymentInfo: { deploymentId: 'd-CANCEL', status: 'InProgress' } };
    });
    const result = await runStepInProcess(codedeployStep, inputs, { cwd: dir, env, signal: controller.signal });
    expect(result.status).toBe('cancelled');
    expect(cd.commandCalls(StopDeploymentCommand)).toHaveLength(1);
    expect((await records())[0]).toMatchObject({ outcome: 'failed', deploymentId: 'd-CANCEL', detail: 'cancelled; stopped with automatic rollback' });
  });

  it('operation: rollback redeploys the last good revision and records it as rolled back', async () => {
    const s3 = (key: string) => ({ revisionType: 'S3' as const, s3Location: { bucket: 'releases', key, bundleType: 'zip' as const } });
    cd.on(GetDeploymentGroupCommand).resolves({ deploymentGroupInfo: { targetRevision: s3('orders-1.4.2.zip') } });
    cd.on(ListDeploymentsCommand).resolves({ deployments: ['d-NEW', 'd-OLD'] });
    cd.on(BatchGetDeploymentsCommand).resolves({
      deploymentsInfo: [
        { deploymentId: 'd-NEW', status: 'Succeeded', completeTime: new Date('2026-11-30'), revision: s3('orders-1.4.2.zip') },
        { deploymentId: 'd-OLD', status: 'Succeeded', completeTime: new Date('2026-11-29'), revision: s3('orders-1.4.1.zip') },
      ],
    });
    cd.on(CreateDeploymentCommand).resolves({ deploymentId: 'd-RB' });
    cd.on(GetDeploymentCommand).resolves({ deploymentInfo: { deploymentId: 'd-RB', status: 'Succeeded' } });
    const result = await runStepInProcess(codedeployStep, { operation: 'rollback', application: 'orders', 'deployment-group': 'prod', version: '1.4.1', 'poll-interval': '1ms' }, { cwd: dir, env });
    expect(result.status).toBe('success');
    expect(result.outputs).toMatchObject({ 'deployment-id': 'd-RB', outcome: 'rolled-back', 'rolled-back-to': 'd-OLD' });
    expect(cd.commandCalls(CreateDeploymentCommand)[0]!.args[0].input.revision).toEqual(s3('orders-1.4.1.zip'));
    // a restore of the deployment it undid (DORA counts it as no new change)
    expect((await records())[0]).toMatchObject({ outcome: 'rolled-back', version: '1.4.1', deploymentId: 'd-RB', rollbackOf: 'd-NEW' });
    expect(posts).toEqual([expect.objectContaining({ outcome: 'rolled-back', version: '1.4.1' })]);
  });

  it('still deploys when the Slack app is down, with a warning', async () => {
    cd.on(CreateDeploymentCommand).resolves({ deploymentId: 'd-STEP0004' });
    cd.on(GetDeploymentCommand).resolves({ deploymentInfo: { deploymentId: 'd-STEP0004', status: 'Succeeded' } });
    const result = await runStepInProcess(codedeployStep, inputs, { cwd: dir, env: { ...env, SHIPGATE_APP_URL: 'http://127.0.0.1:1' } });
    expect(result.status).toBe('success');
    expect(result.logs).toContainEqual(expect.stringMatching(/Slack app was not told/));
    expect(await records()).toHaveLength(1);
  });

  it.each([
    [{ application: 'orders', 'deployment-group': 'prod' }, /either bucket \+ key .* or task-definition/],
    [{ application: 'orders', 'deployment-group': 'prod', 'task-definition': 'orders', container: 'app' }, /container-port: required with an ECS deployment/],
    [{ ...inputs, timeout: 'soon' }, /timeout: must be a duration with units/],
    [{ ...inputs, operation: 'rollback' }, /operation: a rollback redeploys an earlier succeeded revision/],
  ])('refuses inputs %j before calling AWS', async (bad, message) => {
    const result = await runStepInProcess(codedeployStep, bad, { cwd: dir, env });
    expect(result.status).toBe('failure');
    expect(result.error?.code).toBe('step.inputs');
    expect(result.error?.message).toMatch(message);
    expect(cd.calls()).toHaveLength(0);
  });
});

describe('deploy record defaults', () => {
  const digest = `sha256:${'c'.repeat(64)}`;
  it.each([
    [{ version: '1.4.2' }, { tag: 'v9', sha: 'abcdef1234567890' }, '1.4.2'],
    [{}, { tag: 'v1.4.2', sha: 'abcdef1234567890' }, 'v1.4.2'],
    [{}, { sha: 'abcdef1234567890' }, 'abcdef123456'],
    [{ image: 'acme/orders:1.4.2' }, {}, '1.4.2'],
    [{ 'object-version': 'v42' }, {}, 'v42'],
    [{}, {}, 'unknown'],
  ])('version of %j with CI %j is %s', (given, ci, expected) => {
    expect(versionOf(given, ci)).toBe(expected);
  });

  it.each([
    [{ digest }, digest],
    [{ image: digest }, digest],
    [{ image: `acme/orders@${digest}` }, digest],
    [{ image: 'acme/orders:1.4.2' }, undefined],
  ])('digest of %j', (given, expected) => {
    expect(digestOf(given)).toBe(expected);
  });
});
