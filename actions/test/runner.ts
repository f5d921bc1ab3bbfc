// Runs a bundled action the way the GitHub runner does: `node actions/<name>/dist/index.js` with
// INPUT_* variables, the GITHUB_* environment, an event payload file, and the GITHUB_OUTPUT and
// GITHUB_STEP_SUMMARY files. The bundle is copied outside the repository first, so nothing it
// needs can come from node_modules: on a runner there is none.
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const repoActions = path.resolve(import.meta.dirname, '..');
export const fixtures = path.join(import.meta.dirname, 'fixtures');

export type EventName = 'push' | 'tag-push' | 'pull_request';

const events: Record<EventName, { eventName: string; ref: string; sha: string; headRef?: string }> = {
  push: { eventName: 'push', ref: 'refs/heads/main', sha: '4f1c2d3e4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d' },
  'tag-push': { eventName: 'push', ref: 'refs/tags/v1.4.2', sha: '4f1c2d3e4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d' },
  // On pull_request GITHUB_SHA is the test-merge commit; the head sha is in the payload.
  pull_request: { eventName: 'pull_request', ref: 'refs/pull/42/merge', sha: 'e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4', headRef: 'feature/payment-retry' },
};

export interface ActionRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Parsed from GITHUB_OUTPUT (`name<<delimiter` blocks). */
  outputs: Record<string, string>;
  outputFile: string;
  summary: string;
  /** `::error …::message` lines, decoded. */
  errors: { title?: string; message: string }[];
  masks: string[];
}

/** A copy of the committed bundle and a scratch workspace, as a runner's job has them. */
export interface BundledJob {
  /** `<bundleDir>/actions/<name>/dist/index.js` and `<bundleDir>/actions/shared/dist/*`. */
  bundleDir: string;
  workspace: string;
}

export function bundledJob(): BundledJob {
  const bundleDir = mkdtempSync(path.join(os.tmpdir(), 'shipgate-runner-'));
  const shared = path.join(repoActions, 'shared', 'dist');
  if (!existsSync(path.join(shared, 'index.cjs'))) throw new Error('actions/shared/dist/index.cjs is missing: build it with node actions/scripts/bundle.mjs');
  cpSync(shared, path.join(bundleDir, 'actions', 'shared', 'dist'), { recursive: true });
  for (const name of ['run', 'db-test', 'approval', 'slack-notify', 'image', 'quality-gate', 'codedeploy', 'codepipeline', 'verify']) {
    const entry = path.join(repoActions, name, 'dist', 'index.js');
    if (existsSync(entry)) cpSync(entry, path.join(bundleDir, 'actions', name, 'dist', 'index.js'));
  }
  return { bundleDir, workspace: mkdtempSync(path.join(os.tmpdir(), 'shipgate-ws-')) };
}

export function removeJob(job: BundledJob | undefined): void {
  if (!job) return;
  rmSync(job.bundleDir, { recursive: true, force: true });
  rmSync(job.workspace, { recursive: true, force: true });
}

function decode(text: string): string {
  return text.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%3A/g, ':').replace(/%2C/g, ',').replace(/%25/g, '%');
}

/** GitHub's output file: `name<<DELIM`, value lines, `DELIM`. Anything else fails the test. */
export function parseGitHubOutput(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i += 1) {
    if (lines[i] === '') continue;
    const m = /^([\w-]+)<<(ghadelimiter_[0-9a-f-]+)$/.exec(lines[i]!);
    if (!m) throw new Error(`GITHUB_OUTPUT line ${i + 1} is not name<<delimiter: ${lines[i]}`);
    const end = lines.indexOf(m[2]!, i + 1);
    if (end < 0) throw new Error(`GITHUB_OUTPUT: ${m[1]} is never closed`);
    outputs[m[1]!] = lines.slice(i + 1, end).join('\n');
    i = end;
  }
  return outputs;
}

export interface RunOptions {
  bundleDir: string;
  inputs?: Record<string, string>;
  env?: Record<string, string>;
  event?: EventName;
  /** The job's workspace (GITHUB_WORKSPACE and the working directory). */
  workspace: string;
  timeoutMs?: number;
  /** Called once the action's process runs (e.g. to cancel it as the runner would). */
  started?: (child: ChildProcess) => void;
}

export async function runBundledAction(name: string, options: RunOptions): Promise<ActionRun> {
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'shipgate-job-'));
  try {
    const event = events[options.event ?? 'push'];
    const outputFile = path.join(scratch, 'output');
    const summaryFile = path.join(scratch, 'summary');
    writeFileSync(outputFile, '');
    writeFileSync(summaryFile, '');
    const inputs = Object.fromEntries(Object.entries(options.inputs ?? {}).map(([k, v]) => [`INPUT_${k.replace(/ /g, '_').toUpperCase()}`, v]));
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      HOME: os.homedir(),
      TMPDIR: os.tmpdir(),
      CI: 'true',
      GITHUB_ACTIONS: 'true',
      GITHUB_EVENT_NAME: event.eventName,
      GITHUB_EVENT_PATH: path.join(fixtures, 'events', `${options.event ?? 'push'}.json`),
      GITHUB_REF: event.ref,
      GITHUB_SHA: event.sha,
      ...(event.headRef ? { GITHUB_HEAD_REF: event.headRef, GITHUB_BASE_REF: 'main' } : {}),
      GITHUB_REPOSITORY: 'acme/orders-service',
      GITHUB_REPOSITORY_OWNER: 'acme',
      GITHUB_RUN_ID: '12345678901',
      GITHUB_RUN_NUMBER: '311',
      GITHUB_RUN_ATTEMPT: '1',
      GITHUB_ACTOR: 'monalisa',
      GITHUB_WORKFLOW: 'deploy',
      GITHUB_JOB: 'ship',
      GITHUB_SERVER_URL: 'https://github.com',
      GITHUB_API_URL: 'https://api.github.com',
      GITHUB_WORKSPACE: options.workspace,
      GITHUB_OUTPUT: outputFile,
      GITHUB_STEP_SUMMARY: summaryFile,
      RUNNER_TEMP: scratch,
      RUNNER_OS: 'Linux',
      ...inputs,
      ...options.env,
    };
    const child = spawn(process.execPath, [path.join(options.bundleDir, 'actions', name, 'dist', 'index.js')], { cwd: options.workspace, env, stdio: ['ignore', 'pipe', 'pipe'] });
    options.started?.(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    clearTimeout(timer);
    const errors = stdout
      .split('\n')
      .map((line) => /^::error(?: (.*?))?::(.*)$/.exec(line))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ ...(m[1] ? { title: decode(/title=([^,]*)/.exec(m[1])?.[1] ?? '') } : {}), message: decode(m[2]!) }));
    const masks = stdout.split('\n').filter((l) => l.startsWith('::add-mask::')).map((l) => l.slice('::add-mask::'.length));
    const outputText = readFileSync(outputFile, 'utf8');
    return { code, stdout, stderr, outputs: parseGitHubOutput(outputText), outputFile: outputText, summary: readFileSync(summaryFile, 'utf8'), errors, masks };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
