// The seven AWS requests the CodeBuild executor makes, behind one small interface, each through
// `awsCall` (bounded retries with jitter, AbortSignal, errors naming the IAM action). The SDK
// packages are imported on first use, so runs without a CodeBuild step never load them.
import type { Build, BuildBatch, StartBuildBatchInput, StartBuildInput } from '@aws-sdk/client-codebuild';
import { awsCall, awsClientConfig, type AwsCallOptions } from '../sdk/index.js';
import { ShipgateError } from '@shipgate/protocol';

export interface LogPage {
  events: ReadonlyArray<{ message?: string | undefined; timestamp?: number | undefined }>;
  nextForwardToken?: string | undefined;
}

export interface CodeBuildApi {
  startBuild(input: StartBuildInput): Promise<Build>;
  startBuildBatch(input: StartBuildBatchInput): Promise<BuildBatch>;
  getBuilds(ids: string[]): Promise<Build[]>;
  getBuildBatches(ids: string[]): Promise<BuildBatch[]>;
  stopBuild(id: string): Promise<void>;
  stopBuildBatch(id: string): Promise<void>;
  /** Undefined while the stream does not exist yet (the build has not started logging). */
  getLogEvents(input: { logGroupName: string; logStreamName: string; nextToken?: string | undefined }): Promise<LogPage | undefined>;
}

export interface CodeBuildApiOptions {
  project: string;
  region?: string | undefined;
  endpoint?: string | undefined;
  env?: Readonly<Record<string, string | undefined>>;
  /** Retries of each request (tests make them quick). */
  retry?: AwsCallOptions['retry'];
}

const notReady = 'codebuild.log-not-ready';

/** The real API: AWS SDK v3 clients, created once, on the first request. */
export async function createCodeBuildApi(options: CodeBuildApiOptions): Promise<CodeBuildApi> {
  const config = awsClientConfig({ region: options.region, endpoint: options.endpoint }, options.env ?? process.env);
  const [cb, cwl] = await Promise.all([import('@aws-sdk/client-codebuild'), import('@aws-sdk/client-cloudwatch-logs')]);
  const codebuild = new cb.CodeBuildClient(config as NonNullable<ConstructorParameters<typeof cb.CodeBuildClient>[0]>);
  const logs = new cwl.CloudWatchLogsClient(config as NonNullable<ConstructorParameters<typeof cwl.CloudWatchLogsClient>[0]>);
  const project = `arn:aws:codebuild:${config.region}:*:project/${options.project}`;
  const call = <T>(action: string, resource: string, send: (o: { abortSignal?: AbortSignal }) => Promise<T>, extra: Partial<AwsCallOptions> = {}) =>
    awsCall(send, { action, resource, ...(options.retry ? { retry: options.retry } : {}), ...extra });
  return {
    startBuild: async (input) => (await call('codebuild:StartBuild', project, (o) => codebuild.send(new cb.StartBuildCommand(input), o))).build ?? {},
    startBuildBatch: async (input) => (await call('codebuild:StartBuildBatch', project, (o) => codebuild.send(new cb.StartBuildBatchCommand(input), o))).buildBatch ?? {},
    getBuilds: async (ids) => (await call('codebuild:BatchGetBuilds', project, (o) => codebuild.send(new cb.BatchGetBuildsCommand({ ids }), o))).builds ?? [],
    getBuildBatches: async (ids) => (await call('codebuild:BatchGetBuildBatches', project, (o) => codebuild.send(new cb.BatchGetBuildBatchesCommand({ ids }), o))).buildBatches ?? [],
    stopBuild: async (id) => void (await call('codebuild:StopBuild', project, (o) => codebuild.send(new cb.StopBuildCommand({ id }), o))),
    stopBuildBatch: async (id) => void (await call('codebuild:StopBuildBatch', project, (o) => codebuild.send(new cb.StopBuildBatchCommand({ id }), o))),
    getLogEvents: async (input) => {
      const resource = `arn:aws:logs:${config.region}:*:log-group:${input.logGroupName}:log-stream:${input.logStreamName}`;
      try {
        const page = await call('logs:GetLogEvents', resource, (o) => logs.send(new cwl.GetLogEventsCommand({ ...input, startFromHead: true }), o), {
          // the stream appears a few seconds after the build starts: not an error, just nothing yet
          errors: { ResourceNotFoundException: () => new ShipgateError(notReady, 'log stream not created yet') },
        });
        return { events: page.events ?? [], nextForwardToken: page.nextForwardToken };
      } catch (error) {
        if (error instanceof ShipgateError && error.code === notReady) return undefined;
        throw error;
      }
    },
  };
}
