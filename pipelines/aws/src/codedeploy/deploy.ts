// Creating, following and stopping CodeDeploy deployments. Everything AWS is reached through
// `call` (session.ts: bounded retries, the AbortSignal) and every wait through `pollUntil` (bounded
// in time and count, injectable clock). The SDK is loaded by `import()`, and this module is itself
// imported lazily by the step, so pipelines without AWS steps never load it. Rollbacks: rollback.ts.
import type { DeploymentInfo, DeploymentTarget, RevisionLocation } from '@aws-sdk/client-codedeploy';
import { ExitCode, ShipgateError } from '@shipgate/protocol';
import { awsCall, awsClientConfig, consoleUrl, pollUntil, type SendOptions } from '../sdk/index.js';
import type { DeploymentOutcome } from '@shipgate/core';
import { describeOverview, formatFailure, targetFailures, targetStates, type TargetFailure } from './progress.js';
import { describeRevision, ecsRevision, s3Revision, type S3RevisionSpec } from './revision.js';
import { call, groupErrors, openSession, type CodeDeployOptions, type Session } from './session.js';
import { rewriteTaskDefinition } from './task-definition.js';

export type { CodeDeployOptions } from './session.js';

export type RevisionRequest =
  | ({ kind: 's3' } & S3RevisionSpec)
  | {
      kind: 'ecs';
      /** The current task definition: a family (its latest ACTIVE revision), `family:revision` or an ARN. */
      taskDefinition: string;
      container: string;
      port: number;
      /** A full image reference or a bare `sha256:` digest (applied to the container's repository). */
      image: string;
    };

export interface DeployRequest extends CodeDeployOptions {
  application: string;
  deploymentGroup: string;
  revision: RevisionRequest;
  description?: string | undefined;
  deploymentConfigName?: string | undefined;
  /** Told as soon as CodeDeploy accepted the deployment (before following it). */
  onCreated?: ((deploymentId: string) => void) | undefined;
}

export interface DeploymentResult {
  deploymentId: string;
  region: string;
  /** CodeDeploy's final status: Succeeded, Failed or Stopped. */
  status: string;
  outcome: DeploymentOutcome;
  timedOut: boolean;
  revision: RevisionLocation;
  /** ECS: the task definition revision registered for this deployment. */
  taskDefinitionArn?: string | undefined;
  /** The deployment CodeDeploy started to roll this one back, if any. */
  rollbackDeploymentId?: string | undefined;
  rollbackStatus?: string | undefined;
  failures: TargetFailure[];
  /** CodeDeploy's own error, e.g. `HEALTH_CONSTRAINTS: The overall deployment failed…`. */
  error?: string | undefined;
  url: string;
}

const terminal = new Set(['Succeeded', 'Failed', 'Stopped']);

/** ECS: registers the new task definition revision; returns its ARN. */
async function registerTaskDefinition(s: Session, revision: Extract<RevisionRequest, { kind: 'ecs' }>): Promise<string> {
  const ecsSdk = await import('@aws-sdk/client-ecs');
  const ecs = s.options.ecsClient ?? new ecsSdk.ECSClient(awsClientConfig({ ...s.options, region: s.region }, s.options.env ?? process.env));
  const tdArn = `arn:aws:ecs:${s.region}:*:task-definition/${revision.taskDefinition.replace(/^arn:[^/]+\//, '').split(':')[0]}:*`;
  const ecsCall = <T>(action: string, send: (o: SendOptions) => Promise<T>) =>
    awsCall(send, { action: `ecs:${action}`, resource: action === 'DescribeTaskDefinition' || action === 'RegisterTaskDefinition' ? tdArn : '*', signal: s.options.signal, retry: s.options.retry, breaker: s.options.breaker });
  const described = await ecsCall('DescribeTaskDefinition', (o) => ecs.send(new ecsSdk.DescribeTaskDefinitionCommand({ taskDefinition: revision.taskDefinition, include: ['TAGS'] }), o));
  if (!described.taskDefinition) throw new ShipgateError('codedeploy.task-definition', `task definition "${revision.taskDefinition}" was not found`, { hint: 'name it by family, family:revision or ARN' });
  const input = rewriteTaskDefinition(described.taskDefinition, described.tags, { container: revision.container, image: revision.image });
  const registered = await ecsCall('RegisterTaskDefinition', (o) => ecs.send(new ecsSdk.RegisterTaskDefinitionCommand(input), o));
  const arn = registered.taskDefinition?.taskDefinitionArn;
  if (!arn) throw new ShipgateError('codedeploy.task-definition', 'RegisterTaskDefinition returned no ARN', { exitCode: ExitCode.external });
  const image = input.containerDefinitions?.find((c) => c.name === revision.container)?.image;
  s.log(`registered ${arn.replace(/^.*task-definition\//, 'task definition ')} (${revision.container} → ${image})`);
  return arn;
}

export async function createDeployment(s: Session, application: string, deploymentGroup: string, revision: RevisionLocation, extra: { description?: string | undefined; deploymentConfigName?: string | undefined }): Promise<string> {
  const created = await call(
    s,
    'CreateDeployment',
    s.groupArn,
    (o) =>
      s.client.send(
        new s.sdk.CreateDeploymentCommand({
          applicationName: application,
          deploymentGroupName: deploymentGroup,
          revision,
          ...(extra.description ? { description: extra.description.slice(0, 1000) } : {}),
          ...(extra.deploymentConfigName ? { deploymentConfigName: extra.deploymentConfigName } : {}),
        }),
        o,
      ),
    {
      ...groupErrors(application, deploymentGroup),
      DeploymentLimitExceededException: () =>
        new ShipgateError('codedeploy.deployment-in-progress', `deployment group ${application}/${deploymentGroup} already has a deployment in progress`, {
          exitCode: ExitCode.failed,
          hint: 'wait for it to finish, or stop it (aws deploy stop-deployment --deployment-id …), then run again',
        }),
      RevisionDoesNotExistException: () => new ShipgateError('codedeploy.revision', `CodeDeploy cannot find the revision ${describeRevision(revision)}`, { hint: 'check bucket, key, version and eTag' }),
      InvalidRevisionException: (e) => new ShipgateError('codedeploy.revision', `CodeDeploy refused the revision ${describeRevision(revision)}: ${(e as Error).message}`, { hint: 'check bundle-type and the AppSpec' }),
    },
  );
  if (!created.deploymentId) throw new ShipgateError('codedeploy.no-id', 'CreateDeployment returned no deployment id', { exitCode: ExitCode.external });
  return created.deploymentId;
}

async function getDeployment(s: Session, id: string, signal?: AbortSignal): Promise<DeploymentInfo> {
  const out = await call(s, 'GetDeployment', s.groupArn, (o) => s.client.send(new s.sdk.GetDeploymentCommand({ deploymentId: id }), o), undefined, signal);
  if (!out.deploymentInfo) throw new ShipgateError('codedeploy.no-deployment', `GetDeployment returned nothing for ${id}`, { exitCode: ExitCode.external });
  return out.deploymentInfo;
}

/** Targets of a deployment (at most 100: enough to say what failed without paging a fleet). */
async function getTargets(s: Session, id: string): Promise<DeploymentTarget[]> {
  const ids: string[] = [];
  let nextToken: string | undefined;
  for (let page = 0; page < 4 && ids.length < 100; page += 1) {
    const listed = await call(s, 'ListDeploymentTargets', s.groupArn, (o) => s.client.send(new s.sdk.ListDeploymentTargetsCommand({ deploymentId: id, ...(nextToken ? { nextToken } : {}) }), o));
    ids.push(...(listed.targetIds ?? []));
    nextToken = listed.nextToken;
    if (!nextToken) break;
  }
  const targets: DeploymentTarget[] = [];
  // BatchGetDeploymentTargets takes at most 25 ids per call.
  for (let i = 0; i < Math.min(ids.length, 100); i += 25) {
    const batch = await call(s, 'BatchGetDeploymentTargets', s.groupArn, (o) => s.client.send(new s.sdk.BatchGetDeploymentTargetsCommand({ deploymentId: id, targetIds: ids.slice(i, i + 25) }), o));
    targets.push(...(batch.deploymentTargets ?? []));
  }
  return targets;
}

async function stopDeployment(s: Session, id: string, why: string): Promise<void> {
  // The step's own signal may be the reason we stop (cancel), so the stop gets its own deadline.
  const signal = AbortSignal.timeout(20_000);
  // It may have finished between our last look and the stop: then there is nothing to stop.
  const finished = () => new ShipgateError('codedeploy.already-finished', 'it had already finished', { exitCode: ExitCode.failed });
  try {
    const out = await call(s, 'StopDeployment', s.groupArn, (o) => s.client.send(new s.sdk.StopDeploymentCommand({ deploymentId: id, autoRollbackEnabled: true }), o), { DeploymentAlreadyCompletedException: finished }, signal);
    s.log(`${id}: stopped (${why}), automatic rollback requested — ${out.status ?? 'Pending'}${out.statusMessage ? `: ${out.statusMessage}` : ''}`);
  } catch (error) {
    s.log(`${id}: not stopped (${why}): ${(error as Error).message}`);
    if (!(error instanceof ShipgateError && error.code === 'codedeploy.already-finished')) throw error;
  }
}

interface Followed {
  info: DeploymentInfo;
  timedOut: boolean;
  failures: TargetFailure[];
}

/**
 * Polls a deployment to its end, logging progress. On timeout and on abort a deployment is stopped
 * with automatic rollback — but a rollback (CodeDeploy's, or ours) is left to finish (`stop: false`):
 * stopping it would leave a mixed fleet, and its automatic rollback would bring back the bad revision.
 */
export async function follow(s: Session, id: string, timeoutMs: number, label = id, stop = true): Promise<Followed> {
  let lastStatus: string | undefined;
  let lastOverview: string | undefined;
  let lastFailed = 0;
  const targetStatus = new Map<string, string>();
  const reported = new Set<string>();
  const failures: TargetFailure[] = [];

  const reportTargets = async () => {
    const states = targetStates(await getTargets(s, id));
    for (const t of states) {
      if (targetStatus.get(t.targetId) !== t.status) s.log(`${label}: ${t.type === 'InstanceTarget' ? 'instance' : t.type.replace(/Target$/, '')} ${t.targetId} ${t.status}`);
      targetStatus.set(t.targetId, t.status);
    }
    for (const f of targetFailures(states)) {
      const key = `${f.targetId}/${f.event}`;
      if (reported.has(key)) continue;
      reported.add(key);
      failures.push(f);
      for (const line of formatFailure(f)) s.log(`${label}: ${line}`);
    }
  };

  let latest: DeploymentInfo | undefined;
  const check = async (): Promise<DeploymentInfo | undefined> => {
    const info = await getDeployment(s, id);
    latest = info;
    const status = info.status ?? 'Unknown';
    const overview = describeOverview(info.deploymentOverview);
    const failedNow = info.deploymentOverview?.Failed ?? 0;
    const statusChanged = status !== lastStatus;
    if (statusChanged) s.log(`${label}: ${status}${info.deploymentStatusMessages?.length ? ` — ${info.deploymentStatusMessages.join('; ')}` : ''}`);
    if (statusChanged && status === 'Ready') s.log(`${label}: the replacement targets are ready; CodeDeploy waits for traffic to be rerouted (ContinueDeployment, or the group's wait time)`);
    if (overview && overview !== lastOverview) s.log(`${label}: targets ${overview}`);
    // Targets are read when something moved (not on every poll): their lifecycle events say why.
    // ECS and Lambda deployments have no overview counts: their targets' own status is the progress.
    const noCounts = info.computePlatform !== undefined && info.computePlatform !== 'Server' && status !== 'Created' && status !== 'Queued';
    if ((statusChanged && noCounts) || failedNow > lastFailed || (terminal.has(status) && status !== 'Succeeded')) await reportTargets();
    lastStatus = status;
    lastOverview = overview;
    lastFailed = failedNow;
    return terminal.has(status) ? info : undefined;
  };

  try {
    const outcome = await pollUntil(check, { intervalMs: s.options.pollIntervalMs ?? 15_000, timeoutMs, clock: s.clock, signal: s.options.signal });
    if (!outcome.timedOut) return { info: outcome.value, timedOut: false, failures };
  } catch (error) {
    if (s.options.signal?.aborted) {
      if (stop) await stopDeployment(s, id, 'cancelled').catch(() => {});
      else s.log(`${label}: no longer followed (cancelled); it goes on in CodeDeploy`);
      throw s.options.signal.reason;
    }
    throw error;
  }
  if (!stop) {
    s.log(`${label}: not finished after ${Math.round(timeoutMs / 1000)} s; it goes on in CodeDeploy`);
    return { info: latest ?? { deploymentId: id, status: 'InProgress' }, timedOut: true, failures };
  }
  await stopDeployment(s, id, `not finished after ${Math.round(timeoutMs / 1000)} s`);
  // Read the stopped deployment back for rollbackInfo (bounded: CodeDeploy marks it within seconds).
  const stopped = await pollUntil(async () => {
    const info = await getDeployment(s, id);
    return terminal.has(info.status ?? '') ? info : undefined;
  }, { intervalMs: Math.min(s.options.pollIntervalMs ?? 15_000, 5_000), timeoutMs: 60_000, maxPolls: 12, clock: s.clock, signal: s.options.signal });
  return { info: stopped.timedOut ? (latest ?? { deploymentId: id, status: 'Stopped' }) : stopped.value, timedOut: true, failures };
}

/** Follows CodeDeploy's automatic rollback of `info` (if it started one) and reports how it went. */
async function followRollback(s: Session, failed: DeploymentInfo): Promise<{ id?: string; status?: string }> {
  let info = failed;
  // CodeDeploy may mark the deployment Failed a moment before it names the rollback deployment.
  if (!info.rollbackInfo?.rollbackDeploymentId && info.autoRollbackConfiguration?.enabled && info.deploymentId) {
    const named = await pollUntil(
      async () => {
        const again = await getDeployment(s, info.deploymentId!);
        return again.rollbackInfo?.rollbackDeploymentId ? again : undefined;
      },
      { intervalMs: Math.min(s.options.pollIntervalMs ?? 15_000, 5_000), timeoutMs: 30_000, maxPolls: 6, clock: s.clock, signal: s.options.signal },
    );
    if (!named.timedOut) info = named.value;
  }
  const rollbackId = info.rollbackInfo?.rollbackDeploymentId;
  if (!rollbackId) return {};
  s.log(`${info.deploymentId}: CodeDeploy is rolling back with deployment ${rollbackId}${info.rollbackInfo?.rollbackMessage ? ` (${info.rollbackInfo.rollbackMessage})` : ''}`);
  const followed = await follow(s, rollbackId, s.options.rollbackTimeoutMs ?? 15 * 60_000, `rollback ${rollbackId}`, false);
  return { id: rollbackId, status: followed.timedOut ? 'TimedOut' : followed.info.status };
}

export async function finish(s: Session, id: string, revision: RevisionLocation, followed: Followed, extra: Partial<DeploymentResult> = {}): Promise<DeploymentResult> {
  const status = followed.info.status ?? 'Unknown';
  const result: DeploymentResult = {
    deploymentId: id,
    region: s.region,
    status,
    outcome: 'succeeded',
    timedOut: followed.timedOut,
    revision,
    failures: followed.failures,
    url: consoleUrl(s.region, `codesuite/codedeploy/deployments/${id}`),
    ...extra,
  };
  if (followed.info.errorInformation) result.error = `${followed.info.errorInformation.code ?? 'ERROR'}: ${followed.info.errorInformation.message ?? ''}`.trim();
  if (status === 'Succeeded') return result;
  const rollback = await followRollback(s, followed.info);
  result.rollbackDeploymentId = rollback.id;
  result.rollbackStatus = rollback.status;
  result.outcome = rollback.status === 'Succeeded' ? 'rolled-back' : 'failed';
  return result;
}

/** Creates a deployment (S3 bundle, or ECS blue/green with a new task definition) and follows it to the end. */
export async function deployCodeDeploy(request: DeployRequest): Promise<DeploymentResult> {
  const s = await openSession(request.application, request.deploymentGroup, request);
  const taskDefinitionArn = request.revision.kind === 'ecs' ? await registerTaskDefinition(s, request.revision) : undefined;
  const revision =
    request.revision.kind === 's3'
      ? s3Revision(request.revision)
      : ecsRevision({ taskDefinitionArn: taskDefinitionArn!, container: request.revision.container, port: request.revision.port });
  const id = await createDeployment(s, request.application, request.deploymentGroup, revision, request);
  request.onCreated?.(id);
  s.log(`${id}: deploying ${describeRevision(revision)} to ${request.application}/${request.deploymentGroup} — ${consoleUrl(s.region, `codesuite/codedeploy/deployments/${id}`)}`);
  const followed = await follow(s, id, request.timeoutMs ?? 30 * 60_000);
  return finish(s, id, revision, followed, taskDefinitionArn ? { taskDefinitionArn } : {});
}
