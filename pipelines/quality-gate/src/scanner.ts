// Running a Sonar analysis: which properties the scanner gets and how it is started. The analysis
// properties are `sonar-project.properties` overlaid with `with.properties`, plus the branch or
// pull-request parameters the CI context implies. The token never goes on the command line (any
// user on the machine can read a process's argv): the scanner gets it as SONAR_TOKEN in its
// environment, which every Sonar scanner reads.
import { createRequire } from 'node:module';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { ShipgateError, ExitCode } from '@shipgate/protocol';
import type { CiContext, ProcessRunner, StepLogger } from '@shipgate/protocol';

/** Properties that hold credentials: never passed as `-D` (argv is world-readable). */
export const secretPropertyKeys: readonly string[] = ['sonar.token', 'sonar.login', 'sonar.password'];

type Env = Readonly<Record<string, string | undefined>>;

/** The branch a pull request merges into, from whichever CI is running us. */
export function pullRequestBase(ci: CiContext, env: Env): string | undefined {
  const fromCodeBuild = env.CODEBUILD_WEBHOOK_BASE_REF?.replace(/^refs\/heads\//, '');
  return env.GITHUB_BASE_REF || env.CHANGE_TARGET || env.CI_MERGE_REQUEST_TARGET_BRANCH_NAME || fromCodeBuild || ci.defaultBranch || undefined;
}

/**
 * Sonar's branch / pull-request parameters for this CI context: `sonar.pullrequest.key/branch/base`
 * on a pull request, `sonar.branch.name` otherwise. Properties the user set win.
 */
export function ciAnalysisProperties(ci: CiContext, env: Env, given: Readonly<Record<string, string>> = {}): Record<string, string> {
  const has = (prefix: string) => Object.keys(given).some((k) => k.startsWith(prefix));
  if (has('sonar.pullrequest.') || has('sonar.branch.')) return {};
  if (ci.pullRequest !== undefined) {
    const base = pullRequestBase(ci, env);
    return {
      'sonar.pullrequest.key': String(ci.pullRequest),
      ...(ci.branch ? { 'sonar.pullrequest.branch': ci.branch } : {}),
      ...(base ? { 'sonar.pullrequest.base': base } : {}),
    };
  }
  if (ci.branch && !ci.tag) return { 'sonar.branch.name': ci.branch };
  return {};
}

export interface AnalysisPropertiesInput {
  /** sonar-project.properties, if there is one. */
  file: Readonly<Record<string, string>>;
  /** `with.properties`. */
  given: Readonly<Record<string, string>>;
  ci: CiContext;
  env: Env;
  hostUrl?: string;
  /** Add the branch / pull-request parameters (off for Community Edition servers, which reject them). */
  ciParameters: boolean;
}

/** Everything the scanner is told with `-D`, secrets left out. Pure. */
export function analysisProperties(input: AnalysisPropertiesInput): Record<string, string> {
  for (const key of secretPropertyKeys) {
    if (key in input.given) {
      throw new ShipgateError('quality-gate.token-in-properties', `with.properties.${key} would put a credential on the scanner's command line`, {
        hint: 'remove it and set the SONAR_TOKEN environment variable (a CI secret); shipgate hands it to the scanner through its environment',
      });
    }
  }
  const merged: Record<string, string> = { ...input.file, ...input.given };
  for (const key of secretPropertyKeys) delete merged[key];
  if (input.hostUrl) merged['sonar.host.url'] = input.hostUrl;
  return { ...merged, ...(input.ciParameters ? ciAnalysisProperties(input.ci, input.env, merged) : {}) };
}

/** Where the scanner writes report-task.txt, given its properties (relative to `cwd`). */
export function reportTaskPath(cwd: string, properties: Readonly<Record<string, string>>): string {
  if (properties['sonar.scanner.metadataFilePath']) return path.resolve(cwd, properties['sonar.scanner.metadataFilePath']);
  const base = path.resolve(cwd, properties['sonar.projectBaseDir'] ?? '.');
  return path.resolve(base, properties['sonar.working.directory'] ?? '.scannerwork', 'report-task.txt');
}

/** The scanner of the `sonarqube-scanner` package, run with this Node. */
export function defaultScannerCommand(): { command: string; args: string[] } {
  const require = createRequire(import.meta.url);
  return { command: process.execPath, args: [require.resolve('sonarqube-scanner/bin/sonar-scanner.js')] };
}

export interface RunScannerOptions {
  process: ProcessRunner;
  logger: StepLogger;
  cwd: string;
  command: string;
  args: readonly string[];
  properties: Readonly<Record<string, string>>;
  token?: string;
  timeoutMs?: number;
}

/**
 * Runs the scanner and returns the path of the report-task.txt it wrote. A report-task.txt left by
 * an earlier run is removed first, so the gate can never wait on an old analysis.
 */
export async function runScanner(options: RunScannerOptions): Promise<{ reportTask: string } | { killed: true }> {
  const reportTask = reportTaskPath(options.cwd, options.properties);
  await rm(reportTask, { force: true });
  const defines = Object.entries(options.properties).map(([key, value]) => `-D${key}=${value}`);
  const env: Record<string, string> = {};
  if (options.token) env.SONAR_TOKEN = options.token;
  if (options.properties['sonar.host.url']) env.SONAR_HOST_URL = options.properties['sonar.host.url'];
  options.logger.info(`sonar: ${path.basename(options.command)} ${[...options.args, ...defines].join(' ')}`);
  const result = await options.process.exec(options.command, [...options.args, ...defines], {
    cwd: options.cwd,
    env,
    ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
  });
  if (result.killed) return { killed: true };
  if (result.exitCode !== 0) {
    throw new ShipgateError('quality-gate.scanner-failed', `the Sonar scanner exited with ${result.exitCode ?? result.signal}`, {
      exitCode: ExitCode.failed,
      hint: 'see its output above; the scanner needs a JDK or its own download, or set with.scanner to a scanner installed here',
    });
  }
  return { reportTask };
}
