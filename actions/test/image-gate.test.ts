// actions/image against a real registry (docker-registry on loopback), with tags computed from the
// real event payloads; actions/quality-gate against a loopback stand-in of the Sonar Web API.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildTinyImage, inspectDigest, pushImage, removeLocalImages, requireDocker, startRegistry, type StartedRegistry } from '../../pipelines/test/support/registry.js';
import { ceTask, projectStatus, startFakeSonar, type FakeSonar } from '../../pipelines/quality-gate/test/fake-sonar.js';
import { bundledJob, removeJob, runBundledAction, type BundledJob } from './runner.js';

let job: BundledJob;

beforeAll(() => {
  job = bundledJob();
});
afterAll(() => {
  removeJob(job);
});

describe('actions/image tags: the run\'s context comes from the event', () => {
  const image = 'ghcr.io/acme/orders-service';
  it.each([
    // main is the default branch (repository.default_branch in the payload), so it also gets latest
    ['push', [`${image}:main`, `${image}:sha-4f1c2d3`, `${image}:latest`]],
    ['tag-push', [`${image}:1.4.2`, `${image}:1.4`, `${image}:1`, `${image}:sha-4f1c2d3`, `${image}:latest`]],
    // the pull request's head commit, not GITHUB_SHA (the test-merge commit)
    ['pull_request', [`${image}:pr-42`, `${image}:sha-d4e5f6a`]],
  ] as const)('%s', async (event, expected) => {
    const run = await runBundledAction('image', { ...job, event, inputs: { image } });
    expect(run.errors).toEqual([]);
    expect(run.code).toBe(0);
    expect(run.outputs.tags!.split('\n')).toEqual(expected);
    const labels = run.outputs.labels!.split('\n');
    expect(labels).toContain('org.opencontainers.image.source=https://github.com/acme/orders-service');
    expect(labels).toContain(`org.opencontainers.image.revision=${event === 'pull_request' ? 'd4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3' : '4f1c2d3e4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d'}`);
    expect(run.summary).toContain(`\`${expected[0]}\``);
  });

  it('a bad command is named with the allowed values', async () => {
    const run = await runBundledAction('image', { ...job, inputs: { image, command: 'deploy' } });
    expect(run.code).toBe(1);
    expect(run.errors[0]?.title).toBe('shipgate image: step.inputs');
    expect(run.errors[0]?.message).toMatch(/command: .*tags.*push.*promote.*rollback/);
  });
});

describe('actions/image against a real registry', () => {
  let registry: StartedRegistry | undefined;
  let docker = false;
  const local: string[] = [];

  beforeAll(async () => {
    docker = await requireDocker('actions/image registry tests');
    if (docker) registry = await startRegistry();
  }, 60_000);
  afterAll(async () => {
    await removeLocalImages(...local);
    await registry?.stop();
  }, 60_000);

  it('pushes with computed tags and outputs the digest, promotes it, and rolls back', async () => {
    if (!docker || !registry) return;
    const v1 = `${registry.host}/acme/orders:seed-v1`;
    const v2 = `${registry.host}/acme/orders:seed-v2`;
    await buildTinyImage(v1, { 'VERSION': '1.4.1\n' });
    await buildTinyImage(v2, { 'VERSION': '1.4.2\n' });
    local.push(v1, v2);
    const d1 = await pushImage(v1);

    const pushed = await runBundledAction('image', { ...job, event: 'tag-push', inputs: { command: 'push', image: `${registry.host}/acme/orders`, 'source-image': v2, builder: 'docker', tags: 'type=semver,pattern={{version}}' } });
    expect(pushed.errors).toEqual([]);
    expect(pushed.code).toBe(0);
    expect(pushed.outputs.tags!.split('\n')).toEqual([`${registry.host}/acme/orders:1.4.2`, `${registry.host}/acme/orders:latest`]);
    local.push(...pushed.outputs.tags!.split('\n'));
    const d2 = await inspectDigest(`${registry.host}/acme/orders:1.4.2`);
    expect(pushed.outputs.digest).toBe(d2);
    expect(pushed.summary).toContain(d2);

    const first = await runBundledAction('image', { ...job, inputs: { command: 'promote', image: v1, tag: 'production' } });
    expect(first.outputs.digest).toBe(d1);
    const second = await runBundledAction('image', { ...job, inputs: { command: 'promote', image: `${registry.host}/acme/orders:1.4.2`, tag: 'production' } });
    expect(second.code).toBe(0);
    expect(second.outputs).toMatchObject({ digest: d2, previous: d1 });
    expect(await inspectDigest(`${registry.host}/acme/orders:production`)).toBe(d2);

    const back = await runBundledAction('image', { ...job, inputs: { command: 'rollback', image: `${registry.host}/acme/orders`, tag: 'production' } });
    expect(back.errors).toEqual([]);
    expect(back.outputs).toMatchObject({ digest: d1, previous: d2 });
    expect(await inspectDigest(`${registry.host}/acme/orders:production`)).toBe(d1);
  }, 180_000);
});

describe('actions/quality-gate', () => {
  const token = 'squ_actiontoken0000000000000000000000000';
  let sonar: FakeSonar;
  let dir: string;
  beforeAll(async () => {
    sonar = await startFakeSonar({ token });
    dir = path.join(job.workspace, 'gate');
    mkdirSync(path.join(dir, '.scannerwork'), { recursive: true });
  });
  afterAll(async () => {
    await sonar.close();
  });

  const reportTask = (id: string) => writeFileSync(path.join(dir, '.scannerwork', 'report-task.txt'), `projectKey=orders-service\nserverUrl=${sonar.url}\ndashboardUrl=${sonar.url}/dashboard?id=orders-service\nceTaskId=${id}\nceTaskUrl=${sonar.url}/api/ce/task?id=${id}\n`);

  it('waits for the analysis, passes, and puts every condition in the job summary; the token is masked', async () => {
    reportTask('AT1');
    sonar.tasks.set('AT1', [ceTask('AT1', 'IN_PROGRESS'), ceTask('AT1', 'SUCCESS')]);
    sonar.statuses.set('analysis-AT1', [projectStatus('OK', [['new_coverage', 'LT', '80', '91.2', 'OK'], ['new_violations', 'GT', '0', '0', 'OK']])]);
    const run = await runBundledAction('quality-gate', { ...job, inputs: { 'report-task': '.scannerwork/report-task.txt', token, 'poll-interval': '50ms', 'working-directory': 'gate' } });
    expect(run.errors).toEqual([]);
    expect(run.code).toBe(0);
    expect(run.outputs.status).toBe('OK');
    expect(JSON.parse(run.outputs.conditions!)).toHaveLength(2);
    expect(run.summary).toMatch(/new_coverage/);
    expect(run.masks).toContain(token);
    expect(sonar.requests.every((r) => r.authorization === `Bearer ${token}`)).toBe(true);
  });

  it('a failed gate fails the job with an annotation', async () => {
    reportTask('AT2');
    sonar.tasks.set('AT2', [ceTask('AT2', 'SUCCESS')]);
    sonar.statuses.set('analysis-AT2', [projectStatus('ERROR', [['new_coverage', 'LT', '85', '82.5', 'ERROR']])]);
    const run = await runBundledAction('quality-gate', { ...job, inputs: { 'report-task': '.scannerwork/report-task.txt', token, 'poll-interval': '50ms', 'working-directory': 'gate' } });
    expect(run.code).toBe(1);
    expect(run.outputs.status).toBe('ERROR');
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]?.title).toMatch(/^shipgate quality-gate: /);
    expect(run.summary).toContain('new_coverage');
  });
});
