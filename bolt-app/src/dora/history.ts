// The DORA metrics of the app's deployment history: the rows as @shipgate/core's pure computation
// reads them, and the view of a row the pipelines' `GET /api/deployments` returns (the shape of a
// deployments.jsonl line, so the CLI reads both the same way).
import { computeDora, type DoraDeployment, type DoraReport } from '@shipgate/core';
import type { Deployment } from '../approvals/model.js';
import type { Store } from '../store/store.js';

/** A row as the DORA computation reads it: the Rollback button's restore records are not changes. */
export function doraDeploymentOf(d: Deployment): DoraDeployment {
  return { service: d.service, environment: d.environment, version: d.version, outcome: d.outcome, at: d.createdAt, commitAt: d.commitAt, restore: d.rollbackOf !== null };
}

/**
 * The window's metrics. Rows from one window before it are read too: a rollback in the window
 * names a release deployed before it, and only that tells it from a new change.
 */
export async function doraReport(store: Store, options: { now: Date; windowMs: number; service?: string }): Promise<DoraReport> {
  const lookBack = 2 * options.windowMs;
  const rows = await store.deployments.since(new Date(options.now.getTime() - lookBack), options.service ? { service: options.service } : {});
  return computeDora(rows.map(doraDeploymentOf), { now: options.now, windowMs: options.windowMs });
}

/** A row for `GET /api/deployments`: a deployments.jsonl record (`at`, the app's id as `deploymentId`). */
export function deploymentRecordView(d: Deployment): Record<string, unknown> {
  const optional: Record<string, string | null> = { digest: d.digest, image: d.image, deployer: d.deployer, url: d.url, reportUrl: d.reportUrl, commit: d.commit, commitAt: d.commitAt?.toISOString() ?? null, rollbackOf: d.rollbackOf };
  return {
    service: d.service,
    environment: d.environment,
    version: d.version,
    outcome: d.outcome,
    at: d.createdAt.toISOString(),
    deploymentId: d.id,
    via: 'shipgate-bolt',
    ...Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== null)),
  };
}
