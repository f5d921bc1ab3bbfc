// Which deployment a rollback goes back to: the newest succeeded deployment of the application
// and deployment group whose revision is not the one running now. Pure, so it is table-tested.
import type { DeploymentInfo, RevisionLocation } from '@aws-sdk/client-codedeploy';
import { revisionKey } from './revision.js';

export type RevisionRollbackChoice =
  | { found: true; deployment: DeploymentInfo; skipped: number }
  | { found: false; reason: string };

function time(d: DeploymentInfo): number {
  return (d.completeTime ?? d.createTime ?? new Date(0)).getTime();
}

/**
 * `succeeded`: the group's Succeeded deployments (any order); `current`: the revision running now.
 * Newest first by completion time; deployments of the current revision are skipped, so a revision
 * deployed twice in a row is not "rolled back" onto itself.
 */
export function chooseRevisionRollbackTarget(succeeded: readonly DeploymentInfo[], current: RevisionLocation | undefined): RevisionRollbackChoice {
  const currentKey = revisionKey(current);
  const ordered = [...succeeded].filter((d) => d.status === undefined || d.status === 'Succeeded').sort((a, b) => time(b) - time(a));
  let skipped = 0;
  for (const deployment of ordered) {
    if (!deployment.revision) {
      skipped += 1;
      continue;
    }
    if (current && revisionKey(deployment.revision) === currentKey) {
      skipped += 1;
      continue;
    }
    return { found: true, deployment, skipped };
  }
  return {
    found: false,
    reason: ordered.length === 0 ? 'it has no succeeded deployment' : `its ${ordered.length} succeeded deployment(s) all deployed the current revision`,
  };
}
