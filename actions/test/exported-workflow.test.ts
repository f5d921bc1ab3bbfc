// A workflow from `shipgate export github`, run job by job the way the runner runs it: each job
// (each matrix instance) on a fresh copy of the repository; `actions/run` from its committed bundle
// with the inputs the workflow gives, expressions evaluated from GitHub's `needs` and `matrix`
// contexts; upload-artifact and download-artifact as their READMEs define them (paths stored
// relative to the least common ancestor of the search paths, downloaded under `path`, a pattern
// with merge-multiple merging several). So what the exporter writes is shown to run, not only to parse.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { exportGitHubWorkflow, loadPlugins, defaultRegistry } from '@shipgate/cli';
import { loadPipeline } from '@shipgate/core';
import { parse } from 'yaml';
import { bundledJob, removeJob, runBundledAction, type BundledJob } from './runner.js';

// the steps of the plugins a test loaded (db-test), for defaultRegistry
let plugins: Awaited<ReturnType<typeof loadPlugins>> = [];

interface WorkflowStep {
  id?: string;
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  env?: Record<string, string>;
  with?: Record<string, string | number | boolean>;
}
interface Job {
  needs?: string[];
  if?: string;
  strategy?: { matrix: Record<string, unknown[]> };
  outputs?: Record<string, string>;
  steps: WorkflowStep[];
}

let job: BundledJob;
let root: string;
beforeAll(async () => {
  job = bundledJob();
  root = mkdtempSync(path.join(os.tmpdir(), 'shipgate-exported-'));
  plugins = await loadPlugins({});
});
afterAll(() => {
  removeJob(job);
  rmSync(root, { recursive: true, force: true });
});

/** The part of a search path before its first wildcard segment (upload-artifact's search path). */
function searchPath(pattern: string): string {
  const segments = pattern.split('/');
  const at = segments.findIndex((s) => /[*?[]/.test(s));
  return segments.slice(0, at === -1 ? segments.length : at).join('/');
}

/** @actions/glob as upload-artifact uses it with include-hidden-files: dotfiles match like any other file. */
function matches(file: string, pattern: string): boolean {
  const hide = (t: string) => t.split('/').map((s) => (s.startsWith('.') && s.length > 1 && s !== '..' ? `\uE000${s.slice(1)}` : s)).join('/');
  return path.matchesGlob(hide(file), hide(pattern));
}

/** Every file under a directory of the workspace, relative to the workspace. */
function filesUnder(workspace: string, dir: string): string[] {
  const full = path.join(workspace, dir);
  if (!statSync(full, { throwIfNoEntry: false })) return [];
  if (statSync(full).isFile()) return [dir];
  return (readdirSync(full, { recursive: true }) as string[]).map((f) => path.posix.join(dir, f.split(path.sep).join('/'))).filter((f) => statSync(path.join(workspace, f)).isFile());
}

/** upload-artifact: the files the patterns match (a directory: everything in it), relative to the least common ancestor of the search paths. */
function upload(workspace: string, patterns: string[]): Map<string, Buffer> {
  const dirs = patterns.map((p) => {
    const base = searchPath(p);
    return p === base && !statSync(path.join(workspace, base), { throwIfNoEntry: false })?.isDirectory() ? path.posix.dirname(base) : base;
  });
  const parts = dirs.map((d) => d.split('/').filter((s) => s && s !== '.'));
  const lca: string[] = [];
  for (let i = 0; parts.every((p) => i < p.length && p[i] === parts[0]![i]); i += 1) lca.push(parts[0]![i]!);
  const files = new Map<string, Buffer>();
  for (const pattern of patterns) {
    for (const file of filesUnder(workspace, searchPath(pattern) || '.').filter((f) => f === pattern || f.startsWith(`${pattern}/`) || matches(f, pattern))) {
      files.set(path.posix.relative(lca.join('/') || '.', file), readFileSync(path.join(workspace, file)));
    }
  }
  return files;
}

/** A job's GITHUB_STEP_SUMMARY as the runner leaves it: what every step appended. */
const summaries = new Map<string, string>();

async function runWorkflow(workflow: { jobs: Record<string, Job> }, repo: string): Promise<Map<string, string>> {
  const artifacts = new Map<string, Map<string, Buffer>>();
  const results: Record<string, { result: string; outputs: Record<string, string> }> = {};
  const workspaces = new Map<string, string>();
  for (const [id, definition] of Object.entries(workflow.jobs)) {
    const axes = Object.entries(definition.strategy?.matrix ?? {});
    const instances: Array<Record<string, unknown> | undefined> = axes.length ? (axes[0]![1] as unknown[]).map((v) => ({ [axes[0]![0]]: v })) : [undefined];
    const needs = Object.fromEntries((definition.needs ?? []).map((n) => [n, results[n]!]));
    for (const [index, matrix] of instances.entries()) {
      const workspace = path.join(root, `${id}-${index}`);
      cpSync(repo, workspace, { recursive: true }); // actions/checkout: a fresh copy
      workspaces.set(id, workspace);
      const expr = (text: string) =>
        text
          .replace('${{ toJSON(needs) }}', JSON.stringify(needs, null, 2))
          .replace('${{ toJSON(matrix) }}', JSON.stringify(matrix ?? null))
          .replace('${{ strategy.job-index }}', String(index));
      let outputs: Record<string, string> = {};
      const stepOutputs: Record<string, Record<string, string>> = {};
      let summary = '';
      for (const step of definition.steps) {
        const inputs = Object.fromEntries(Object.entries(step.with ?? {}).map(([k, v]) => [k, expr(String(v))]));
        if (step.uses === 'actions/checkout@v4') continue;
        // the only conditions an exported workflow puts on steps: always(), and the upload's URL being there
        if (step.if !== undefined && step.if !== 'always()' && !(step.if === "steps.upload.outputs.artifact-url != ''" && stepOutputs.upload?.['artifact-url'])) continue;
        if (step.uses === 'actions/download-artifact@v4') {
          const names = inputs.name ? [inputs.name] : [...artifacts.keys()].filter((n) => path.matchesGlob(n, inputs.pattern!));
          expect([id, names.length > 0]).toEqual([id, true]);
          // with a pattern and merge-multiple false, each artifact goes to a directory of its name under path
          const into = (name: string) => (inputs.pattern && inputs['merge-multiple'] === 'false' ? path.join(inputs.path!, name) : inputs.path!);
          for (const name of names) for (const [file, bytes] of artifacts.get(name)!) {
            mkdirSync(path.dirname(path.join(workspace, into(name), file)), { recursive: true });
            writeFileSync(path.join(workspace, into(name), file), bytes);
          }
        } else if (step.uses === 'actions/upload-artifact@v4') {
          const files = upload(workspace, inputs.path!.split('\n'));
          // if-no-files-found: ignore uploads nothing and fails nothing; the default (warn) still makes no artifact
          if (files.size === 0) expect([id, inputs['if-no-files-found']]).toEqual([id, 'ignore']);
          else artifacts.set(inputs.name!, files);
          if (step.id && files.size) stepOutputs[step.id] = { 'artifact-url': `https://github.com/acme/orders/actions/runs/1/artifacts/${artifacts.size}` };
        } else if (step.uses?.startsWith('shipgate/shipgate/actions/run@')) {
          const ran = await runBundledAction('run', { bundleDir: job.bundleDir, workspace, inputs });
          expect([id, ran.code, ran.errors, ran.code ? ran.stdout + ran.stderr : ""]).toEqual([id, 0, [], ""]);
          outputs = ran.outputs;
          summary += ran.summary;
          if (step.id) stepOutputs[step.id] = ran.outputs;
        } else if (step.run !== undefined) {
          const summaryFile = path.join(workspace, '.step-summary');
          writeFileSync(summaryFile, '');
          const env = Object.fromEntries(Object.entries(step.env ?? {}).map(([k, v]) => [k, v.replace('${{ steps.upload.outputs.artifact-url }}', stepOutputs.upload?.['artifact-url'] ?? '')]));
          execFileSync('bash', ['-eo', 'pipefail', '-c', step.run], { cwd: workspace, env: { ...process.env, ...env, GITHUB_STEP_SUMMARY: summaryFile } });
          summary += readFileSync(summaryFile, 'utf8');
        } else {
          throw new Error(`job ${id}: a step this test does not run: ${JSON.stringify(step)}`);
        }
      }
      summaries.set(id, summary);
      const jobOutputs = Object.fromEntries(Object.entries(definition.outputs ?? {}).map(([k, v]) => [k, outputs[/steps\.shipgate\.outputs\.([\w-]+)/.exec(v)![1]!] ?? '']));
      results[id] = { result: 'success', outputs: { ...results[id]?.outputs, ...jobOutputs } };
    }
  }
  return workspaces;
}

describe('an exported workflow, run job by job', () => {
  it('each job runs its step through actions/run; declared files and outputs reach the jobs that need them', async () => {
    const repo = path.join(root, 'repo');
    mkdirSync(path.join(repo, 'src'), { recursive: true });
    writeFileSync(path.join(repo, 'src', 'index.txt'), 'orders\n');
    writeFileSync(
      path.join(repo, 'shipgate.yml'),
      [
        'name: orders',
        'steps:',
        '  build:',
        '    run: |',
        '      mkdir -p dist/lib && cp src/index.txt dist/lib/index.txt && echo stamp > dist/.stamp',
        '      echo "version=1.4.2" >> "$SHIPGATE_OUTPUT"',
        '    outputs: [version]',
        '    cache: { inputs: [src/**], outputs: [dist/**] }',
        '  test:',
        '    needs: build',
        '    matrix: { shard: [1, 2] }',
        '    run: mkdir -p reports && cat dist/lib/index.txt > reports/shard-${{ matrix.shard }}.txt',
        '    artifacts: [reports/**]',
        '  package:',
        '    needs: test',
        '    run: cat dist/lib/index.txt dist/.stamp reports/shard-1.txt reports/shard-2.txt > package.txt && echo "${{ steps.build.outputs.version }}" >> package.txt && echo "packaged ${{ steps.build.outputs.version }}"',
        '',
      ].join('\n'),
    );
    const spec = await loadPipeline(path.join(repo, 'shipgate.yml'), { registry: defaultRegistry(plugins) });
    const { text, warnings } = exportGitHubWorkflow(spec, { install: '', checkout: ['shipgate.yml', 'src/index.txt'] });
    expect(warnings).toEqual([]);
    const workflow = parse(text) as { jobs: Record<string, Job> };
    const workspaces = await runWorkflow(workflow, repo);
    // package's job had build's dist/ (hidden file too, at its place) and both shards' reports, and build's output through needs
    expect(readFileSync(path.join(workspaces.get('package')!, 'package.txt'), 'utf8')).toBe('orders\nstamp\norders\norders\n1.4.2\n');

    // the report job gathered every job's run report (each in a directory of its artifact's name) into one page
    const gathered = path.join(workspaces.get('report')!, 'shipgate-reports');
    expect(readdirSync(gathered).filter((f) => f.startsWith('shipgate-report-')).sort()).toEqual(['shipgate-report-build', 'shipgate-report-package', 'shipgate-report-test.0', 'shipgate-report-test.1']);
    const html = readFileSync(path.join(gathered, 'report.html'), 'utf8');
    // one waterfall row per invocation (`<tr … data-outcome>`), its name linking to its log inside the merged artifact
    const rows = [...html.matchAll(/<tr [^>]*data-outcome="(\w+)"[^>]*><th scope="row">(?:<span[^>]*>[^<]*<\/span>)*(?:<a href="([^"]+)">)?([^<]+)/g)].map((m) => ({ outcome: m[1], href: m[2] && decodeURIComponent(m[2]), id: m[3] }));
    expect(rows.map((r) => [r.id, r.outcome]).sort()).toEqual([['build', 'success'], ['package', 'success'], ['test[shard=1]', 'success'], ['test[shard=2]', 'success']]);
    // a step that printed links to its whole log, which is there in the merged directory
    expect(rows.filter((r) => r.href).map((r) => [r.id, r.href])).toEqual([['package', 'shipgate-report-package/logs/package.log']]);
    expect(readFileSync(path.join(gathered, 'shipgate-report-package/logs/package.log'), 'utf8')).toBe('packaged 1.4.2\n');
    // its job summary says where the merged page is
    expect(summaries.get('report')).toContain('Waterfall of every job: report.html in the [shipgate-report](https://github.com/acme/orders/actions/runs/1/artifacts/');
    // and each job's own summary still is the outcome table of its step, naming its report.html
    expect(summaries.get('package')).toContain('.shipgate/report/report.html');
  }, 120_000);
});
