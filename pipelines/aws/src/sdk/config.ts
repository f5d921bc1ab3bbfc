// How shipgate builds AWS SDK v3 clients: one place that decides the region, the endpoint and the
// SDK's own retry budget, so every step (CodeDeploy, CodePipeline, CodeBuild, ECS, ECR) behaves
// the same. The SDK itself is never imported here: callers `await import('@aws-sdk/client-…')`
// inside their `run`, so `shipgate --version` and pipelines without AWS steps never load it.
import { ShipgateError } from '@shipgate/protocol';

/** Static keys, or a function that fetches them (the shape the SDK's `credentials` accepts). */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}
export type AwsCredentialsInput = AwsCredentials | (() => Promise<AwsCredentials>);

/** What a step or a function that calls AWS accepts from its caller. */
export interface AwsClientOptions {
  /** e.g. `eu-west-1`. Default: `AWS_REGION`, then `AWS_DEFAULT_REGION` of the environment. */
  region?: string | undefined;
  /**
   * A custom endpoint (LocalStack, a VPC endpoint, a test server). Default: the SDK's own choice,
   * which already honours `AWS_ENDPOINT_URL` and `AWS_ENDPOINT_URL_<SERVICE>`.
   */
  endpoint?: string | undefined;
  /** Credentials for embedding (the Slack app's role); default: the SDK's provider chain. */
  credentials?: AwsCredentialsInput | undefined;
}

/** The config object every `new XxxClient(config)` of shipgate receives. */
export interface AwsClientConfig {
  region: string;
  endpoint?: string;
  credentials?: AwsCredentialsInput;
  /** A named profile of ~/.aws/config (from the step's AWS_PROFILE). */
  profile?: string;
  /**
   * 1: the SDK makes one attempt and `awsCall` owns retries. Two layers of retries would multiply
   * (3 × 5 attempts), and only ours honours the step's AbortSignal during back-off and can be
   * bounded and tested with an injected delay.
   */
  maxAttempts: 1;
}

const regionPattern = /^[a-z]{2}(-[a-z]+)+-\d+$/;

/** The region to call: the explicit one, else the environment's; a clear error when neither is set. */
export function resolveRegion(explicit: string | undefined, env: Readonly<Record<string, string | undefined>>): string {
  const region = explicit?.trim() || env.AWS_REGION?.trim() || env.AWS_DEFAULT_REGION?.trim();
  if (!region) {
    throw new ShipgateError('aws.region', 'no AWS region: set the step input `region` or AWS_REGION', {
      hint: 'e.g. `with: { region: eu-west-1 }`, or export AWS_REGION=eu-west-1 in the job',
    });
  }
  if (!regionPattern.test(region)) {
    throw new ShipgateError('aws.region', `"${region}" is not an AWS region name`, { hint: 'region names look like eu-west-1, us-east-2, ap-southeast-1' });
  }
  return region;
}

/** Builds the client config (pure): `new CodeDeployClient(awsClientConfig(options, env))`. */
export function awsClientConfig(options: AwsClientOptions, env: Readonly<Record<string, string | undefined>> = process.env): AwsClientConfig {
  const config: AwsClientConfig = { region: resolveRegion(options.region, env), maxAttempts: 1 };
  if (options.endpoint) {
    if (!/^https?:$/.test(URL.parse(options.endpoint)?.protocol ?? '')) {
      throw new ShipgateError('aws.endpoint', `endpoint "${options.endpoint}" is not a URL`, { hint: 'write it as https://host[:port] (or http:// for a local test server)' });
    }
    config.endpoint = options.endpoint;
  }
  // A step's own `env:` may carry the AWS identity (AWS_PROFILE, or keys from a secret store) that
  // differs from the process's; the SDK reads only process.env, so hand them over explicitly.
  if (options.credentials !== undefined) config.credentials = options.credentials;
  else if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) {
    config.credentials = { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}) };
  } else if (env.AWS_PROFILE) config.profile = env.AWS_PROFILE;
  return config;
}

/** What an injected SDK client must offer for `awsClient` to learn its region. */
interface RegionAware {
  config: { region: () => Promise<string> };
}

/**
 * The client a step talks to and its region: the injected one (tests, the Slack app's own), which
 * carries its own region — asked rather than demanded twice — or one built by `make` from
 * `awsClientConfig`: `awsClient(options.client, (c) => new sdk.CodeDeployClient(c), options, env)`.
 */
export async function awsClient<Client extends RegionAware>(
  injected: Client | undefined,
  make: (config: AwsClientConfig) => Client,
  options: AwsClientOptions,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<{ client: Client; region: string }> {
  if (injected) return { client: injected, region: options.region ?? (await injected.config.region()) };
  const config = awsClientConfig(options, env);
  return { client: make(config), region: config.region };
}

/** Where the AWS console shows a resource: a link for logs, summaries and deploy records. */
export function consoleUrl(region: string, path: string): string {
  return `https://${region}.console.aws.amazon.com/${path.replace(/^\//, '')}${path.includes('?') ? '&' : '?'}region=${region}`;
}
