// The DORA metrics of the app's deployment history (the store's `doraRows`: the columns
// @shipgate/core's pure computation reads; a Rollback-button restore is not a change), and the
// view of a row that `GET /api/deployments` returns (the shape of a deployments.jsonl line, so the
// CLI reads both the same way).
import { computeDora, type DoraReport } from '@shipgate/core';
import type { Deployment } from '../approvals/model.js';
import type { Store } from '../store/store.js';

/** Beyond this many deployments in two windows the oldest are left out (a scrape stays within seconds: see the README's benchmark). */
export const maxDoraRows = 100_000;

/**
 * The window's metrics. Rows from one window before it are read too: a rollback in the window
 * names a release deployed before it, and only that tells it from a new change.
 */
export async function doraReport(store: Store, options: { now: Date; windowMs: number; service?: string }): Promise<DoraReport> {
  const lookBack = 2 * options.windowMs;
  const rows = await store.deployments.doraRows(new Date(options.now.getTime() - lookBack), options.service ? { service: options.service } : {}, maxDoraRows);
  return computeDora(rows, { now: options.now, windowMs: options.windowMs });
}

/** A row for `GET /api/deployments`: a deployments.jsonl record (`at`, the app's id as `deploymentId`). */
export function deploymentRecordView(d: Deployment): Record<string, unknown> {
  const optional: Record<string, string | null> = { digest: d.digest, image: d.image, deployer: d.deployer, url: d.url, reportUrl: d.reportUrl, commit: d.commit, commitAt: d.commitAt?.toISOString() ?? null, rollbackOf: d.rollbackOf, reason: d.reason };
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
