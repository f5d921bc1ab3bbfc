// Rolling a CodeDeploy deployment group back: its last succeeded deployment of a revision other
// than the current one (chooseRevisionRollbackTarget, pure) is deployed again and followed to the
// end, without stopping it at the timeout. What the Slack app's Rollback button calls.
import type { DeploymentInfo, RevisionLocation } from '@aws-sdk/client-codedeploy';
import { ExitCode, ShipgateError } from '@shipgate/protocol';
import { consoleUrl } from '../sdk/index.js';
import { createDeployment, finish, follow, type DeploymentResult } from './deploy.js';
import { describeRevision, revisionKey } from './revision.js';
import { chooseRevisionRollbackTarget } from './rollback-target.js';
import { call, groupErrors, openSession, type CodeDeployOptions, type Session } from './session.js';

export interface RollbackRequest extends CodeDeployOptions {
  application: string;
  deploymentGroup: string;
}

export interface RollbackResult extends DeploymentResult {
  /** What was running: the group's current revision and the deployment that put it there. */
  from: { revision: RevisionLocation | undefined; deploymentId?: string | undefined; description: string };
  /** What it went back to: the revision deployed again and the earlier deployment that first deployed it. */
  to: { revision: RevisionLocation; deploymentId: string; description: string };
  /** One line for people (the Slack thread, the log). */
  message: string;
}

/** Succeeded deployments of the group, newest first as listed (at most `limit`, read 25 at a time). */
async function succeededDeployments(s: Session, application: string, deploymentGroup: string, limit = 50): Promise<DeploymentInfo[]> {
  const ids: string[] = [];
  let nextToken: string | undefined;
  for (let page = 0; page < 5 && ids.length < limit; page += 1) {
    const listed = await call(
      s,
      'ListDeployments',
      s.groupArn,
      (o) => s.client.send(new s.sdk.ListDeploymentsCommand({ applicationName: application, deploymentGroupName: deploymentGroup, includeOnlyStatuses: ['Succeeded'], ...(nextToken ? { nextToken } : {}) }), o),
      groupErrors(application, deploymentGroup),
    );
    ids.push(...(listed.deployments ?? []));
    nextToken = listed.nextToken;
    if (!nextToken) break;
  }
  const infos: DeploymentInfo[] = [];
  for (let i = 0; i < Math.min(ids.length, limit); i += 25) {
    const batch = await call(s, 'BatchGetDeployments', s.groupArn, (o) => s.client.send(new s.sdk.BatchGetDeploymentsCommand({ deploymentIds: ids.slice(i, i + 25) }), o));
    infos.push(...(batch.deploymentsInfo ?? []));
  }
  return infos;
}

/** GetDeployment never returns an AppSpec's content, only its sha256; GetApplicationRevision does. */
async function redeployable(s: Session, application: string, revision: RevisionLocation): Promise<RevisionLocation> {
  const app = revision.appSpecContent ?? revision.string;
  if (!app || app.content) return revision;
  const out = await call(s, 'GetApplicationRevision', `arn:aws:codedeploy:${s.region}:*:application:${application}`, (o) =>
    s.client.send(new s.sdk.GetApplicationRevisionCommand({ applicationName: application, revision }), o),
  );
  const full = out.revision?.appSpecContent ?? out.revision?.string;
  if (!full?.content) throw new ShipgateError('codedeploy.revision', `CodeDeploy no longer has the AppSpec of ${describeRevision(revision)}`, { exitCode: ExitCode.failed, hint: 'deploy the earlier version explicitly instead' });
  return revision.appSpecContent ? { revisionType: 'AppSpecContent', appSpecContent: { content: full.content, ...(full.sha256 ? { sha256: full.sha256 } : {}) } } : { revisionType: 'String', string: { content: full.content, ...(full.sha256 ? { sha256: full.sha256 } : {}) } };
}

/**
 * Rolls an application's deployment group back: finds its last succeeded deployment of a revision
 * other than the current one and deploys that revision again, following it to the end. What the
 * Slack app's Rollback button calls.
 */
export async function rollbackCodeDeploy(request: RollbackRequest): Promise<RollbackResult> {
  const { application, deploymentGroup } = request;
  const s = await openSession(application, deploymentGroup, request);
  const group = await call(s, 'GetDeploymentGroup', s.groupArn, (o) => s.client.send(new s.sdk.GetDeploymentGroupCommand({ applicationName: application, deploymentGroupName: deploymentGroup }), o), groupErrors(application, deploymentGroup));
  const succeeded = await succeededDeployments(s, application, deploymentGroup);
  const newest = [...succeeded].sort((a, b) => (b.completeTime?.getTime() ?? 0) - (a.completeTime?.getTime() ?? 0))[0];
  const current = group.deploymentGroupInfo?.targetRevision ?? newest?.revision;
  const choice = chooseRevisionRollbackTarget(succeeded, current);
  if (!choice.found) {
    throw new ShipgateError('codedeploy.no-rollback-target', `nothing to roll ${application}/${deploymentGroup} back to: ${choice.reason}`, {
      exitCode: ExitCode.failed,
      hint: 'a rollback redeploys an earlier succeeded revision; deploy a known-good version explicitly instead',
    });
  }
  const target = choice.deployment;
  const revision = await redeployable(s, application, target.revision!);
  const fromId = group.deploymentGroupInfo?.lastSuccessfulDeployment?.deploymentId ?? newest?.deploymentId;
  const from = { revision: current, deploymentId: fromId, description: describeRevision(current) };
  const to = { revision, deploymentId: target.deploymentId!, description: describeRevision(revision) };
  s.log(`rolling ${application}/${deploymentGroup} back from ${from.description}${fromId ? ` (${fromId})` : ''} to ${to.description} (first deployed by ${to.deploymentId})`);
  const id = await createDeployment(s, application, deploymentGroup, revision, { description: `shipgate rollback to ${to.deploymentId} (${to.description})` });
  s.log(`${id}: rollback deployment started — ${consoleUrl(s.region, `codesuite/codedeploy/deployments/${id}`)}`);
  const followed = await follow(s, id, request.timeoutMs ?? 30 * 60_000, id, false);
  const result = await finish(s, id, revision, followed);
  const message =
    result.status === 'Succeeded'
      ? `rolled ${application}/${deploymentGroup} back from ${from.description} to ${to.description} (deployment ${id})`
      : result.timedOut
        ? `rollback of ${application}/${deploymentGroup} to ${to.description} is still in progress after the timeout (deployment ${id}): not stopped, it goes on`
        : `rollback of ${application}/${deploymentGroup} to ${to.description} ${result.status.toLowerCase()} (deployment ${id})`;
  return { ...result, from, to, message };
}

/** Whether `a` and `b` name the same revision (re-exported for the Slack app's history checks). */
export function sameRevision(a: RevisionLocation | undefined, b: RevisionLocation | undefined): boolean {
  return revisionKey(a) === revisionKey(b);
}
