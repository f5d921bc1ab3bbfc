// A stand-in for AWS CodeBuild and CloudWatch Logs at the SDK boundary (aws-sdk-client-mock): the
// real SDK clients stay in the path, and the answers have the API's shapes (StartBuild's build,
// BatchGetBuilds' builds[] with buildStatus, phases and logs.groupName/streamName, GetLogEvents'
// events and nextForwardToken). It "runs" a build by executing the buildspec's build command —
// `npx shipgate … step --invocation …` — with the real shipgate CLI in this process, in the
// build's environment, and turns what it prints into the build's log stream.
import { randomUUID } from 'node:crypto';
import { PassThrough } from 'node:stream';
import {
  BatchGetBuildBatchesCommand,
  BatchGetBuildsCommand,
  CodeBuildClient,
  StartBuildBatchCommand,
  StartBuildCommand,
  StopBuildBatchCommand,
  StopBuildCommand,
  type StartBuildBatchInput,
  type StartBuildInput,
} from '@aws-sdk/client-codebuild';
import { CloudWatchLogsClient, GetLogEventsCommand, ResourceNotFoundException, type GetLogEventsRequest } from '@aws-sdk/client-cloudwatch-logs';
import { mockClient } from 'aws-sdk-client-mock';
import { parse } from 'yaml';
import { runCli } from '../../../cli/src/cli/program.js';

const region = 'eu-west-1';
const account = '123456789012';

interface FakeBuild {
  id: string;
  arn: string;
  project: string;
  status: 'IN_PROGRESS' | 'SUCCEEDED' | 'FAILED' | 'STOPPED' | 'FAULT';
  phases: Array<{ phaseType: string; phaseStatus?: string; contexts?: Array<{ statusCode: string; message: string }> }>;
  streamName: string;
  events: Array<{ timestamp: number; message: string }>;
  stopRequested: boolean;
  controller: AbortController;
  done: Promise<void>;
  env: Record<string, string>;
  sourceVersion: string | undefined;
}

interface FakeBatch {
  id: string;
  arn: string;
  members: Array<{ identifier: string; buildId: string }>;
  stopped: boolean;
}

/** Splits a bash command line into words: '…', "…" with $VAR / ${VAR}, and bare words with $VAR. */
export function shellWords(command: string, env: Record<string, string>): string[] {
  const words: string[] = [];
  const expand = (text: string) => text.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (_m, name: string) => env[name] ?? '');
  const re = /'([^']*)'|"((?:[^"\\]|\\.)*)"|(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(command))) words.push(m[1] !== undefined ? m[1] : expand(m[2] ?? m[3]!));
  return words;
}

export class FakeCodeBuild {
  readonly codebuild = mockClient(CodeBuildClient);
  readonly logs = mockClient(CloudWatchLogsClient);
  readonly builds = new Map<string, FakeBuild>();
  readonly batches = new Map<string, FakeBatch>();
  /** Install-phase commands seen (recorded, not run: the workspace's dependencies are already installed). */
  readonly installCommands: string[] = [];
  /** Events per GetLogEvents page: small, so following a log takes several pages. */
  pageSize = 3;

  constructor(
    private readonly workspace: string,
    private readonly stores: { parameters?: Record<string, string>; secrets?: Record<string, string> } = {},
  ) {
    this.codebuild.on(StartBuildCommand).callsFake((input: StartBuildInput) => ({ build: this.#view(this.#start(input, {})) }));
    this.codebuild.on(StartBuildBatchCommand).callsFake((input: StartBuildBatchInput) => ({ buildBatch: this.#batchView(this.#startBatch(input)) }));
    this.codebuild.on(BatchGetBuildsCommand).callsFake((input: { ids: string[] }) => ({
      builds: input.ids.filter((id) => this.builds.has(id)).map((id) => this.#view(this.builds.get(id)!)),
      buildsNotFound: input.ids.filter((id) => !this.builds.has(id)),
    }));
    this.codebuild.on(BatchGetBuildBatchesCommand).callsFake((input: { ids: string[] }) => ({
      buildBatches: input.ids.filter((id) => this.batches.has(id)).map((id) => this.#batchView(this.batches.get(id)!)),
      buildBatchesNotFound: input.ids.filter((id) => !this.batches.has(id)),
    }));
    this.codebuild.on(StopBuildCommand).callsFake((input: { id: string }) => {
      const build = this.builds.get(input.id);
      if (!build) throw Object.assign(new Error(`Build ${input.id} not found`), { name: 'ResourceNotFoundException', $fault: 'client', $metadata: { httpStatusCode: 400 } });
      this.#stop(build);
      return { build: this.#view(build) };
    });
    this.codebuild.on(StopBuildBatchCommand).callsFake((input: { id: string }) => {
      const batch = this.batches.get(input.id)!;
      batch.stopped = true;
      for (const m of batch.members) this.#stop(this.builds.get(m.buildId)!);
      return { buildBatch: this.#batchView(batch) };
    });
    this.logs.on(GetLogEventsCommand).callsFake((input: GetLogEventsRequest) => {
      const build = [...this.builds.values()].find((b) => b.streamName === input.logStreamName && `/aws/codebuild/${b.project}` === input.logGroupName);
      if (!build) throw new ResourceNotFoundException({ message: 'The specified log stream does not exist.', $metadata: { httpStatusCode: 400 } });
      const from = input.nextToken ? Number(input.nextToken.slice(2)) : 0;
      const events = build.events.slice(from, from + this.pageSize);
      // at the end of the stream the token sent is returned again, as CloudWatch does
      return { events: events.map((e, i) => ({ ...e, ingestionTime: e.timestamp, eventId: String(from + i) })), nextForwardToken: `f/${from + events.length}`, nextBackwardToken: `b/${from}` };
    });
  }

  /** Waits for every build this fake started to end. */
  async settle(): Promise<void> {
    await Promise.all([...this.builds.values()].map((b) => b.done));
  }

  /** Stops whatever still runs and puts the SDK back. */
  async restore(): Promise<void> {
    for (const build of this.builds.values()) build.controller.abort(new Error('test over'));
    await this.settle();
    this.codebuild.restore();
    this.logs.restore();
  }

  #stop(build: FakeBuild): void {
    if (build.status !== 'IN_PROGRESS') return;
    build.stopRequested = true;
    build.controller.abort(new Error('StopBuild'));
  }

  #environment(input: StartBuildInput | StartBuildBatchInput, extra: Record<string, string>, id: string): Record<string, string> {
    const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', CODEBUILD_BUILD_ID: id, CODEBUILD_SRC_DIR: this.workspace, CODEBUILD_INITIATOR: 'shipgate-test' };
    if (input.sourceVersion) env.CODEBUILD_RESOLVED_SOURCE_VERSION = input.sourceVersion;
    for (const v of input.environmentVariablesOverride ?? []) {
      const value = v.type === 'PARAMETER_STORE' ? this.stores.parameters?.[v.value!] : v.type === 'SECRETS_MANAGER' ? this.stores.secrets?.[v.value!] : v.value;
      if (value === undefined) throw Object.assign(new Error(`${v.type} ${v.value} not found`), { name: 'InvalidInputException', $fault: 'client', $metadata: { httpStatusCode: 400 } });
      env[v.name!] = value;
    }
    return { ...env, ...extra };
  }

  #start(input: StartBuildInput | StartBuildBatchInput, variables: Record<string, string>): FakeBuild {
    const project = input.projectName!;
    const uuid = randomUUID();
    const id = `${project}:${uuid}`;
    const spec = parse(input.buildspecOverride!) as { version: number; phases: { install?: { commands: string[] }; build: { commands: string[] } } };
    if (spec.version !== 0.2) throw Object.assign(new Error('YAML_FILE_ERROR: version must be 0.2'), { name: 'InvalidInputException', $metadata: { httpStatusCode: 400 } });
    this.installCommands.push(...(spec.phases.install?.commands ?? []));
    const env = this.#environment(input, variables, id);
    const build: FakeBuild = {
      id,
      arn: `arn:aws:codebuild:${region}:${account}:build/${id}`,
      project,
      status: 'IN_PROGRESS',
      phases: [{ phaseType: 'SUBMITTED', phaseStatus: 'SUCCEEDED' }, { phaseType: 'INSTALL', phaseStatus: 'SUCCEEDED' }, { phaseType: 'BUILD' }],
      streamName: uuid,
      events: [],
      stopRequested: false,
      controller: new AbortController(),
      done: Promise.resolve(),
      env,
      sourceVersion: input.sourceVersion,
    };
    const log = (line: string) => build.events.push({ timestamp: Date.now(), message: `${line}\n` });
    build.done = (async () => {
      for (const command of spec.phases.build.commands) {
        log(`[Container] ${new Date().toISOString()} Running command ${command}`);
        const words = shellWords(command, env);
        if (words[0] !== 'npx' || words[1] !== 'shipgate') throw new Error(`the fake only runs shipgate commands, got: ${command}`);
        const stdout = new PassThrough();
        const stderr = new PassThrough();
        for (const stream of [stdout, stderr]) {
          let rest = '';
          stream.on('data', (chunk: Buffer) => {
            const parts = (rest + chunk.toString()).split('\n');
            rest = parts.pop()!;
            for (const part of parts) log(part);
          });
          stream.on('end', () => rest && log(rest));
        }
        const code = await runCli(words.slice(2), { stdout, stderr, cwd: this.workspace, env, isTTY: false, signal: build.controller.signal });
        stdout.end();
        stderr.end();
        if (code !== 0) {
          build.phases[2] = { phaseType: 'BUILD', phaseStatus: build.stopRequested ? 'STOPPED' : 'FAILED', contexts: [{ statusCode: 'COMMAND_EXECUTION_ERROR', message: `Error while executing command: ${command}. Reason: exit status ${code}` }] };
          build.status = build.stopRequested ? 'STOPPED' : 'FAILED';
          log(`[Container] Phase complete: BUILD State: ${build.status}`);
          return;
        }
      }
      build.phases[2] = { phaseType: 'BUILD', phaseStatus: 'SUCCEEDED' };
      log('[Container] Phase complete: BUILD State: SUCCEEDED');
      build.status = 'SUCCEEDED';
    })().catch((error: Error) => {
      log(`[Container] ${error.message}`);
      build.status = 'FAULT';
    });
    this.builds.set(id, build);
    return build;
  }

  #startBatch(input: StartBuildBatchInput): FakeBatch {
    const spec = parse(input.buildspecOverride!) as { batch?: { 'build-list'?: Array<{ identifier: string; env?: { variables?: Record<string, string> } }> } };
    const list = spec.batch?.['build-list'];
    if (!list?.length) throw Object.assign(new Error('batch build needs batch: in the buildspec'), { name: 'InvalidInputException', $metadata: { httpStatusCode: 400 } });
    const uuid = randomUUID();
    const batch: FakeBatch = {
      id: `${input.projectName}:${uuid}`,
      arn: `arn:aws:codebuild:${region}:${account}:build-batch/${input.projectName}:${uuid}`,
      members: list.map((entry) => ({ identifier: entry.identifier, buildId: this.#start(input, entry.env?.variables ?? {}).id })),
      stopped: false,
    };
    this.batches.set(batch.id, batch);
    return batch;
  }

  #view(build: FakeBuild) {
    return {
      id: build.id,
      arn: build.arn,
      projectName: build.project,
      buildStatus: build.status,
      buildComplete: build.status !== 'IN_PROGRESS',
      currentPhase: build.status === 'IN_PROGRESS' ? 'BUILD' : 'COMPLETED',
      phases: build.phases.map((p) => ({ ...p })),
      sourceVersion: build.sourceVersion,
      timeoutInMinutes: 60,
      initiator: 'shipgate-test',
      logs: { groupName: `/aws/codebuild/${build.project}`, streamName: build.streamName, deepLink: `https://console.aws.amazon.com/cloudwatch/home?region=${region}#logEvent:group=/aws/codebuild/${build.project};stream=${build.streamName}` },
    };
  }

  #batchView(batch: FakeBatch) {
    const builds = batch.members.map((m) => this.builds.get(m.buildId)!);
    const status = builds.some((b) => b.status === 'IN_PROGRESS') ? 'IN_PROGRESS' : batch.stopped ? 'STOPPED' : builds.every((b) => b.status === 'SUCCEEDED') ? 'SUCCEEDED' : 'FAILED';
    return {
      id: batch.id,
      arn: batch.arn,
      buildBatchStatus: status,
      buildGroups: batch.members.map((m) => {
        const b = this.builds.get(m.buildId)!;
        return { identifier: m.identifier, dependsOn: [], ignoreFailure: false, currentBuildSummary: { arn: b.arn, buildStatus: b.status, requestedOn: new Date() } };
      }),
      phases: [{ phaseType: 'SUBMITTED', phaseStatus: 'SUCCEEDED' }],
    };
  }
}
