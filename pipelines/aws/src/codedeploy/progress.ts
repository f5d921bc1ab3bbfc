// What a person reads while a deployment runs: counts of targets by status, and for each failed
// target the lifecycle event that failed with CodeDeploy's diagnostics (error code, script, message,
// the tail of the script's log). Pure functions over GetDeployment / BatchGetDeploymentTargets shapes.
import type { DeploymentOverview, DeploymentTarget, LifecycleEvent } from '@aws-sdk/client-codedeploy';

/** `2 succeeded, 1 in progress, 3 pending` (zero counts left out); undefined when there is no overview. */
export function describeOverview(overview: DeploymentOverview | undefined): string | undefined {
  if (!overview) return undefined;
  const parts: [number | undefined, string][] = [
    [overview.Succeeded, 'succeeded'],
    [overview.Failed, 'failed'],
    [overview.InProgress, 'in progress'],
    [overview.Pending, 'pending'],
    [overview.Ready, 'ready'],
    [overview.Skipped, 'skipped'],
  ];
  const text = parts.filter(([n]) => (n ?? 0) > 0).map(([n, label]) => `${n} ${label}`).join(', ');
  return text || undefined;
}

export interface TargetState {
  targetId: string;
  type: string;
  status: string;
  events: LifecycleEvent[];
}

/** Flattens the four target kinds (instance, ECS, Lambda, CloudFormation) into one shape. */
export function targetStates(targets: readonly DeploymentTarget[]): TargetState[] {
  return targets.flatMap((t): TargetState[] => {
    const inner = t.instanceTarget ?? t.ecsTarget ?? t.lambdaTarget ?? t.cloudFormationTarget;
    if (!inner) return [];
    const events = 'lifecycleEvents' in inner ? (inner.lifecycleEvents ?? []) : [];
    return [{ targetId: inner.targetId ?? '(unknown)', type: t.deploymentTargetType ?? 'target', status: inner.status ?? 'Unknown', events }];
  });
}

export interface TargetFailure {
  targetId: string;
  event: string;
  errorCode?: string | undefined;
  scriptName?: string | undefined;
  message?: string | undefined;
  logTail?: string | undefined;
}

/** The failed lifecycle events of failed targets, with their diagnostics. */
export function targetFailures(targets: readonly TargetState[]): TargetFailure[] {
  const failures: TargetFailure[] = [];
  for (const target of targets) {
    if (target.status !== 'Failed') continue;
    const failed = target.events.filter((e) => e.status === 'Failed');
    if (failed.length === 0) failures.push({ targetId: target.targetId, event: '(no failed lifecycle event reported)' });
    for (const event of failed) {
      const d = event.diagnostics;
      failures.push({ targetId: target.targetId, event: event.lifecycleEventName ?? '(unnamed)', errorCode: d?.errorCode, scriptName: d?.scriptName, message: d?.message, logTail: d?.logTail });
    }
  }
  return failures;
}

/** A failure as log lines: one headline, then the last lines of the script's log, indented. */
export function formatFailure(failure: TargetFailure, tailLines = 10): string[] {
  const what = [failure.errorCode, failure.scriptName ? `script ${failure.scriptName}` : undefined, failure.message].filter(Boolean).join(': ');
  const lines = [`${failure.targetId}: ${failure.event} failed${what ? ` — ${what}` : ''}`];
  const tail = failure.logTail?.trimEnd().split('\n').slice(-tailLines) ?? [];
  for (const line of tail) lines.push(`    ${line}`);
  return lines;
}
