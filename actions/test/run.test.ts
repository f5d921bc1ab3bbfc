// actions/run, run from its bundle as the runner does: one script, one step by name, a pipeline.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundledJob, removeJob, runBundledAction, type BundledJob } from './runner.js';

let job: BundledJob;

beforeAll(() => {
  job = bundledJob();
});
afterAll(() => {
  removeJob(job);
});

describe('actions/run', () => {
  it('runs a script: its $SHIPGATE_OUTPUT lines become step outputs, the summary lists them', async () => {
    const run = await runBundledAction('run', {
      ...job,
      inputs: { script: 'echo "building $GITHUB_SHA"\necho "artifact=orders-$GITHUB_RUN_NUMBER.tgz" >> "$SHIPGATE_OUTPUT"\nprintf "notes<<EOF\\nline one\\nline two\\nEOF\\n" >> "$SHIPGATE_OUTPUT"' },
    });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('building 4f1c2d3e4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d');
    expect(run.outputs).toEqual({ artifact: 'orders-311.tgz', notes: 'line one\nline two' });
    expect(run.summary).toContain('## ✅ shipgate run: success');
    expect(run.summary).toContain('| artifact | orders-311.tgz |');
    expect(run.summary).toContain('| notes | line one<br>line two |');
  });

  it('a failing script fails the job with one annotation: message and hint', async () => {
    const run = await runBundledAction('run', { ...job, inputs: { script: 'echo about to fail; exit 3' } });
    expect(run.code).toBe(1);
    expect(run.errors).toEqual([{ title: 'shipgate run: step.exit-code', message: 'script exited with code 3\nhint: see the step log above for its output' }]);
    expect(run.summary).toContain('## ❌ shipgate run: failure');
    expect(run.summary).toContain('**step.exit-code**: script exited with code 3');
  });

  it('runs one step by name with JSON inputs, in the working directory', async () => {
    const dir = path.join(job.workspace, 'svc');
    rmSync(dir, { recursive: true, force: true });
    await import('node:fs/promises').then((fs) => fs.mkdir(dir));
    const run = await runBundledAction('run', { ...job, inputs: { uses: 'run', with: JSON.stringify({ script: 'pwd > where.txt' }), 'working-directory': 'svc' } });
    expect(run.code).toBe(0);
    expect(readFileSync(path.join(dir, 'where.txt'), 'utf8').trim()).toBe(dir);
  });

  it('names the known steps when uses is wrong, and rejects script with uses', async () => {
    const unknown = await runBundledAction('run', { ...job, inputs: { uses: 'deploy-everything' } });
    expect(unknown.code).toBe(1);
    expect(unknown.errors[0]?.message).toMatch(/^input uses: no step named "deploy-everything"\nhint: known steps: .*approval.*db-test.*run.*slack-notify/);
    const both = await runBundledAction('run', { ...job, inputs: { uses: 'run', script: 'true' } });
    expect(both.errors[0]?.title).toBe('shipgate run: action.input');
    const badJson = await runBundledAction('run', { ...job, inputs: { uses: 'run', with: '{script: true' } });
    expect(badJson.errors[0]?.message).toMatch(/^input with must be JSON/);
  });

  it('runs a whole shipgate.yml with the CLI: report written, exit code out, failure annotated', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'shipgate-pipeline-'));
    try {
      writeFileSync(
        path.join(dir, 'shipgate.yml'),
        ['name: orders', 'steps:', '  lint:', '    run: echo lint ok', '  unit:', '    run: echo unit ok', '  package:', '    needs: [lint, unit]', '    run: echo packaged > package.txt', ''].join('\n'),
      );
      const run = await runBundledAction('run', { bundleDir: job.bundleDir, workspace: dir, inputs: { 'keep-going': 'true' } });
      expect(run.code).toBe(0);
      expect(run.outputs).toEqual({ 'exit-code': '0', report: '.shipgate/report.json' });
      expect(readFileSync(path.join(dir, 'package.txt'), 'utf8')).toBe('packaged\n');
      const report = JSON.parse(readFileSync(path.join(dir, '.shipgate', 'report.json'), 'utf8')) as { outcome: string };
      expect(report.outcome).toBe('success');
      expect(run.summary).toContain('orders');
      // the job summary has a Gantt chart of the run (GitHub renders mermaid blocks) and names the page
      expect(run.summary).toMatch(/```mermaid\ngantt\n[\s\S]*lint \(success\) :[\s\S]*\n```/);
      expect(run.summary).toContain('`.shipgate/report.html`');
      expect(readFileSync(path.join(dir, '.shipgate', 'report.html'), 'utf8')).toContain('<title>shipgate: orders — success</title>');

      writeFileSync(path.join(dir, 'shipgate.yml'), ['name: orders', 'steps:', '  unit:', '    run: exit 4', ''].join('\n'));
      const failed = await runBundledAction('run', { bundleDir: job.bundleDir, workspace: dir, inputs: {} });
      expect(failed.code).toBe(1);
      expect(failed.outputs['exit-code']).toBe('1');
      expect(failed.errors.some((e) => e.title === 'shipgate run: pipeline.failed')).toBe(true);
      expect(existsSync(path.join(dir, '.shipgate', 'junit.xml'))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs one job of an exported workflow: only names the step, needs and matrix are GitHub\'s contexts', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'shipgate-job-'));
    try {
      writeFileSync(
        path.join(dir, 'shipgate.yml'),
        [
          'name: orders',
          'steps:',
          '  version: { run: echo "v=0" >> "$SHIPGATE_OUTPUT", outputs: [v] }',
          '  build:',
          '    needs: version',
          '    matrix: { target: [api, worker] }',
          '    outputs: [artifact]',
          '    run: |',
          '      echo "built ${{ matrix.target }} ${{ steps.version.outputs.v }}" > built-${{ matrix.target }}.txt',
          '      echo "artifact=${{ matrix.target }}-${{ steps.version.outputs.v }}.tgz" >> "$SHIPGATE_OUTPUT"',
          '',
        ].join('\n'),
      );
      const needs = JSON.stringify({ version: { result: 'success', outputs: { v: '1.4.2' } } });
      const run = await runBundledAction('run', { bundleDir: job.bundleDir, workspace: dir, inputs: { only: 'build', needs, matrix: '{"target":"worker"}' } });
      expect(run.errors).toEqual([]);
      expect(run.code).toBe(0);
      // only the instance GitHub picked ran, with the upstream output from needs; its outputs are the job step's
      expect(readFileSync(path.join(dir, 'built-worker.txt'), 'utf8')).toBe('built worker 1.4.2\n');
      expect(existsSync(path.join(dir, 'built-api.txt'))).toBe(false);
      expect(run.outputs).toEqual({ artifact: 'worker-1.4.2.tgz', 'exit-code': '0' });

      const two = await runBundledAction('run', { bundleDir: job.bundleDir, workspace: dir, inputs: { only: 'version,build', needs: '{}' } });
      expect(two.errors[0]).toEqual({ title: 'shipgate run: action.input', message: expect.stringMatching(/^with needs or matrix, input only must name one step/) });
      const failing = await runBundledAction('run', { bundleDir: job.bundleDir, workspace: dir, inputs: { only: 'build', matrix: '{"target":"arm"}', needs } });
      expect(failing.code).toBe(1);
      expect(failing.stderr + failing.stdout).toMatch(/is no instance of "build"/);
      expect(failing.errors[0]?.message).toMatch(/^shipgate step build exited with code 2/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('merge-reports: the run reports of several jobs as one report.html; nothing to merge warns and fails nothing', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'shipgate-merge-'));
    try {
      writeFileSync(path.join(dir, 'shipgate.yml'), 'name: orders\nsteps:\n  lint: { run: echo linted }\n  unit: { run: "echo unit failed; exit 4" }\n');
      // two jobs, each leaving its report where the exported workflow's upload picks it up
      const lint = await runBundledAction('run', { bundleDir: job.bundleDir, workspace: dir, inputs: { only: 'lint', needs: '{}', 'report-dir': 'jobs/shipgate-report-lint' } });
      expect([lint.code, lint.outputs.report]).toEqual([0, path.join('jobs/shipgate-report-lint', 'report.json')]);
      const unit = await runBundledAction('run', { bundleDir: job.bundleDir, workspace: dir, inputs: { only: 'unit', needs: '{}', 'report-dir': 'jobs/shipgate-report-unit' } });
      expect(unit.code).toBe(1);
      // the job summary of one step: the outcome table, naming its report.html
      expect(unit.summary).toContain('jobs/shipgate-report-unit/report.html');

      const merged = await runBundledAction('run', { bundleDir: job.bundleDir, workspace: dir, inputs: { 'merge-reports': 'jobs' } });
      expect([merged.code, merged.errors]).toEqual([0, []]);
      expect(merged.outputs.report).toBe(path.join('jobs', 'report.html'));
      expect(merged.summary).toContain('Merged run report of every job: `jobs/report.html`');
      const html = readFileSync(path.join(dir, 'jobs', 'report.html'), 'utf8');
      expect([...html.matchAll(/data-outcome="(\w+)"/g)].map((m) => m[1]).sort()).toEqual(['failure', 'success']);
      // the failed step's log excerpt and a link to its whole log inside the merged directory
      expect(html).toContain('unit failed');
      expect(html).toContain('href="shipgate-report-unit/logs/unit.log"');

      const empty = await runBundledAction('run', { bundleDir: job.bundleDir, workspace: dir, inputs: { 'merge-reports': 'nothing-here' } });
      expect([empty.code, empty.errors]).toEqual([0, []]);
      expect(empty.stdout).toContain('::warning::merge-reports: no report.json in nothing-here or its subdirectories; no report.html written');
      const mixed = await runBundledAction('run', { bundleDir: job.bundleDir, workspace: dir, inputs: { 'merge-reports': 'jobs', only: 'lint' } });
      expect(mixed.errors[0]).toEqual({ title: 'shipgate run: action.input', message: expect.stringMatching(/^merge-reports merges reports that exist; it runs no step/) });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('shared/dist/shipgate.mjs is the whole CLI from the bundle copy, with no node_modules anywhere', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'shipgate-cli-'));
    try {
      writeFileSync(path.join(dir, 'shipgate.yml'), 'name: lib\nsteps:\n  build: { run: "mkdir -p dist && echo built > dist/index.js" }\n  smoke: { needs: build, run: "cat dist/index.js > smoked" }\n');
      const cli = path.join(job.bundleDir, 'actions', 'shared', 'dist', 'shipgate.mjs');
      const run = spawnSync(process.execPath, [cli, '-C', dir, 'run', '--reporter', 'plain'], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HOME: dir } });
      expect([run.status, run.stderr]).toEqual([0, expect.stringMatching(/^report: .*report\.json/)]);
      expect(readFileSync(path.join(dir, 'smoked'), 'utf8')).toBe('built\n');
      const usage = spawnSync(process.execPath, [cli, '-C', dir, 'step', 'nope'], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HOME: dir } });
      expect(usage.status).toBe(2); // the CLI's documented exit codes, not an action's
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
