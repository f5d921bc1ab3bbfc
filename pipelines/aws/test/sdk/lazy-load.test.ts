// The AWS SDK loads only when an AWS step runs: `shipgate --version` and pipelines without AWS
// steps never import it (it is the heaviest dependency of the CLI's start-up). Each client module
// is replaced by a stand-in that records that it was imported.
import { afterAll, describe, expect, it, jest } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

const loaded: string[] = [];
for (const name of ['@aws-sdk/client-codedeploy', '@aws-sdk/client-codepipeline', '@aws-sdk/client-ecs']) {
  jest.unstable_mockModule(name, () => {
    loaded.push(name);
    return {};
  });
}
const { cli } = await import('../../../test/helpers.js');
const { runStepInProcess } = await import('../../../core/src/executors/local.js');
const { codedeployStep } = await import('../../src/codedeploy/index.js');

const dir = await mkdtemp(path.join(os.tmpdir(), 'shipgate-lazy-'));
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('lazy AWS SDK', () => {
  it('shipgate --version, validate and a run without AWS steps import no AWS client', async () => {
    await writeFile(path.join(dir, 'shipgate.yml'), 'name: plain\nsteps:\n  hello:\n    run: echo hello\n');
    expect((await cli(['--version'], dir)).code).toBe(0);
    expect((await cli(['validate'], dir)).code).toBe(0);
    expect((await cli(['run'], dir)).code).toBe(0);
    expect(loaded).toEqual([]);
  });

  it('the codedeploy step imports its client when it runs', async () => {
    await runStepInProcess(codedeployStep, { application: 'a', 'deployment-group': 'g', bucket: 'b', key: 'k' }, { cwd: dir, env: { AWS_REGION: 'eu-west-1' } });
    expect(loaded).toContain('@aws-sdk/client-codedeploy');
  });
});
