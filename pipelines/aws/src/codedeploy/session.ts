// A CodeDeploy session: the SDK (loaded by `import()` on first use), a client for the region, the
// caller's options and log, and `call`, through which every CodeDeploy request goes (`awsCall`:
// bounded retries, the AbortSignal, errors naming the IAM action and the deployment group).
import type { CodeDeployClient } from '@aws-sdk/client-codedeploy';
import type { ECSClient } from '@aws-sdk/client-ecs';
import { ShipgateError } from '@shipgate/protocol';
import { awsCall, awsClient, type AwsCallerOptions, type Clock, type SendOptions } from '../sdk/index.js';

export interface CodeDeployOptions extends AwsCallerOptions {
  /** A client to use (tests, the Slack app's own); default: one built from region / endpoint. */
  client?: CodeDeployClient | undefined;
  /** For ECS blue/green: the client that reads and registers task definitions. */
  ecsClient?: ECSClient | undefined;
  /** Give up (and stop the deployment, rolling back) after this long. Default 30 min. */
  timeoutMs?: number | undefined;
  /** Time between GetDeployment calls. Default 15 s. */
  pollIntervalMs?: number | undefined;
  /** How long to follow CodeDeploy's automatic rollback after a failure or a stop. Default 15 min. */
  rollbackTimeoutMs?: number | undefined;
}

export type CodeDeploySdk = typeof import('@aws-sdk/client-codedeploy');

export interface Session {
  sdk: CodeDeploySdk;
  client: CodeDeployClient;
  region: string;
  options: CodeDeployOptions;
  clock: Clock | undefined;
  log: (line: string) => void;
  /** ARN pattern of the deployment group, named in access-denied errors. */
  groupArn: string;
}

export async function openSession(application: string, deploymentGroup: string, options: CodeDeployOptions): Promise<Session> {
  const sdk = await import('@aws-sdk/client-codedeploy');
  const { client, region } = await awsClient(options.client, (config) => new sdk.CodeDeployClient(config), options, options.env ?? process.env);
  return {
    sdk,
    client,
    region,
    options,
    clock: options.clock,
    log: options.log ?? (() => {}),
    groupArn: `arn:aws:codedeploy:${region}:*:deploymentgroup:${application}/${deploymentGroup}`,
  };
}

export function call<T>(s: Session, action: string, resource: string, send: (o: SendOptions) => Promise<T>, errors?: Record<string, (e: unknown) => ShipgateError>, signal = s.options.signal): Promise<T> {
  return awsCall(send, { action: `codedeploy:${action}`, resource, signal, retry: s.options.retry, breaker: s.options.breaker, errors, onRetry: (n, e, ms) => s.log(`${action}: ${(e as Error).name ?? 'error'}, retry ${n} in ${Math.round(ms)} ms`) });
}

export function groupErrors(application: string, group: string): Record<string, (e: unknown) => ShipgateError> {
  return {
    ApplicationDoesNotExistException: () => new ShipgateError('codedeploy.unknown-application', `CodeDeploy application "${application}" does not exist in this region`, { hint: 'check `application` and `region`' }),
    DeploymentGroupDoesNotExistException: () =>
      new ShipgateError('codedeploy.unknown-deployment-group', `deployment group "${group}" does not exist in application "${application}"`, { hint: 'check `deployment-group` (aws deploy list-deployment-groups --application-name …)' }),
  };
}
