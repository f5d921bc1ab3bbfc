// The four DORA key metrics from a deployment history, per service and environment over a window.
// Pure: plain records in, numbers out, so the CLI (deployments.jsonl or the Slack app's API) and the
// Slack app (its /metrics and `/shipgate dora`) compute them the same way.
//
// Definitions (the README's "DORA metrics" section says the same for people):
// - a *change* is a deployment of a new release; a *restore* is a rollback putting an earlier one
//   back. Only changes count as deployments.
// - deployment frequency: changes that succeeded in the window, and that count per day.
// - lead time for changes: the deployed revision's commit time → the deployment's success.
// - change failure rate: failed changes / changes. A change failed when its deployment failed or
//   was rolled back (by itself or by a later rollback), or when another change followed it within
//   the fix-forward window (a fix shipped on top of it).
// - time to restore: a failed change → the next good (succeeded) deployment after it, restore or change.
import { ShipgateError } from '@shipgate/protocol';

/** One deployment as the computation needs it (a deployments.jsonl line or a Slack app row fits). */
export interface DoraDeployment {
  service: string;
  environment: string;
  version: string;
  outcome: 'succeeded' | 'failed' | 'rolled-back';
  /** When the outcome was known (ISO 8601 or a Date). */
  at: string | Date;
  /** When the deployed revision was committed, if known. */
  commitAt?: string | Date | null;
  /** This record put an earlier release back (the Slack app's Rollback button): a restore, not a change. */
  restore?: boolean;
}

export interface DoraOptions {
  /** The window's end (default: now). */
  now?: Date;
  /** The window's length in ms (default 30 days). */
  windowMs?: number;
  /** A change followed by another change within this many ms is counted as failed (a fix-forward). 0 turns it off. Default 1 hour. */
  fixForwardMs?: number;
}

/** Seconds: how many samples, their median and 90th percentile (nearest rank). */
export interface DurationSummary {
  count: number;
  medianSeconds: number;
  p90Seconds: number;
}

export interface DoraMetrics {
  service: string;
  environment: string;
  /** Changes attempted in the window (any outcome). */
  changes: number;
  /** Changes that succeeded in the window: deployment frequency's count. */
  deployments: number;
  /** `deployments` per day of the window. */
  deploymentsPerDay: number;
  /** Null when no deployment in the window knows its commit time. */
  leadTime: DurationSummary | null;
  failures: number;
  /** failures / changes; null without changes. */
  changeFailureRate: number | null;
  /** Null when no failure in the window was restored. */
  timeToRestore: DurationSummary | null;
  /** Failures in the window with no good deployment after them yet. */
  unrestored: number;
  /** Every lead time and restore time in seconds (for histograms). */
  leadTimesSeconds: number[];
  restoreTimesSeconds: number[];
}

export interface DoraReport {
  from: string;
  to: string;
  windowDays: number;
  fixForwardSeconds: number;
  /** One entry per service and environment with any deployment in the window, sorted by both. */
  groups: DoraMetrics[];
}

const day = 86_400_000;
export const defaultDoraWindowMs = 30 * day;
export const defaultFixForwardMs = 3_600_000;

interface Classified {
  version: string;
  outcome: DoraDeployment['outcome'];
  at: number;
  commitAt: number | undefined;
  change: boolean;
  failed: boolean;
}

const time = (value: string | Date): number => (value instanceof Date ? value.getTime() : Date.parse(value));

/** The DORA metrics of every service and environment in `deployments` over the window ending at `now`. */
export function computeDora(deployments: readonly DoraDeployment[], options: DoraOptions = {}): DoraReport {
  const to = (options.now ?? new Date()).getTime();
  const windowMs = options.windowMs ?? defaultDoraWindowMs;
  const fixForwardMs = options.fixForwardMs ?? defaultFixForwardMs;
  const from = to - windowMs;
  const groups = [...groupByServiceAndEnvironment(deployments)]
    .map(([key, list]) => ({ key, metrics: metricsOf(classify(list, fixForwardMs), { from, to, windowMs }) }))
    .filter((g) => g.metrics.changes > 0)
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map(({ key, metrics }) => {
      const [service, environment] = JSON.parse(key) as [string, string];
      return { service, environment, ...metrics };
    });
  return { from: new Date(from).toISOString(), to: new Date(to).toISOString(), windowDays: windowMs / day, fixForwardSeconds: fixForwardMs / 1000, groups };
}

function groupByServiceAndEnvironment(deployments: readonly DoraDeployment[]): Map<string, DoraDeployment[]> {
  const groups = new Map<string, DoraDeployment[]>();
  for (const d of deployments) {
    const key = JSON.stringify([d.service, d.environment]);
    const group = groups.get(key);
    if (group) group.push(d);
    else groups.set(key, [d]);
  }
  return groups;
}

/**
 * Oldest first, each record a change or a restore, each change failed or not. A `rolled-back`
 * record naming an earlier release (not the last change's) is a rollback *of* that change — what
 * `shipgate rollback` records: the version it went back to; naming a new version, it is that
 * change's own automatic rollback (what `shipgate deploy` records when CodeDeploy rolled it back).
 */
function classify(list: readonly DoraDeployment[], fixForwardMs: number): Classified[] {
  const sorted = list
    .map((d, index) => ({ d, index, at: time(d.at) }))
    .filter((x) => Number.isFinite(x.at))
    .sort((a, b) => a.at - b.at || a.index - b.index);
  const out: Classified[] = [];
  let lastChange: Classified | undefined;
  const earlier = new Set<string>();
  for (const { d, at } of sorted) {
    const commitAt = d.commitAt ? time(d.commitAt) : undefined;
    const rollbackOfLast = d.outcome === 'rolled-back' && lastChange !== undefined && lastChange.version !== d.version && earlier.has(d.version);
    const change = !d.restore && !rollbackOfLast;
    earlier.add(d.version);
    if (!change) {
      if (lastChange && !lastChange.failed) lastChange.failed = true;
      out.push({ version: d.version, outcome: d.outcome, at, commitAt, change: false, failed: false });
      continue;
    }
    // a change on top of a recent successful change: that one needed a fix
    if (lastChange && !lastChange.failed && lastChange.outcome === 'succeeded' && fixForwardMs > 0 && at - lastChange.at <= fixForwardMs) lastChange.failed = true;
    const entry: Classified = { version: d.version, outcome: d.outcome, at, commitAt: Number.isFinite(commitAt) ? commitAt : undefined, change: true, failed: d.outcome !== 'succeeded' };
    out.push(entry);
    lastChange = entry;
  }
  return out;
}

type DoraNumbers = Omit<DoraMetrics, 'service' | 'environment'>;

function metricsOf(history: readonly Classified[], window: { from: number; to: number; windowMs: number }): DoraNumbers {
  const inWindow = (at: number) => at >= window.from && at <= window.to;
  const changes = history.filter((c) => c.change && inWindow(c.at));
  const succeeded = changes.filter((c) => c.outcome === 'succeeded');
  const leadTimes = succeeded.filter((c) => c.commitAt !== undefined && c.commitAt <= c.at).map((c) => (c.at - c.commitAt!) / 1000);
  const failures = changes.filter((c) => c.failed);
  const restoreTimes: number[] = [];
  let unrestored = 0;
  for (const failure of failures) {
    // the next good deployment: a success after the failure (a restore or a change), within the window's end
    const good = history.find((h) => h.at > failure.at && h.at <= window.to && isGood(h));
    if (good) restoreTimes.push((good.at - failure.at) / 1000);
    else unrestored++;
  }
  return {
    changes: changes.length,
    deployments: succeeded.length,
    deploymentsPerDay: succeeded.length / (window.windowMs / day),
    leadTime: summarise(leadTimes),
    failures: failures.length,
    changeFailureRate: changes.length ? failures.length / changes.length : null,
    timeToRestore: summarise(restoreTimes),
    unrestored,
    leadTimesSeconds: leadTimes,
    restoreTimesSeconds: restoreTimes,
  };
}

/** Serves a good release: a succeeded deployment, or a rollback that put the earlier release back. */
function isGood(h: Classified): boolean {
  return h.outcome === 'succeeded' || (!h.change && h.outcome === 'rolled-back');
}

/** Median and p90 by nearest rank (a sample that happened, not an interpolation). */
function summarise(samples: readonly number[]): DurationSummary | null {
  if (samples.length === 0) return null;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = (p: number) => sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]!;
  return { count: sorted.length, medianSeconds: rank(0.5), p90Seconds: rank(0.9) };
}

/**
 * A DORA window as people write it: `30d`, `2w`, `12h`, `90m`, or a combination (`1w3d`). Days
 * and weeks are what these windows are counted in, beyond the 7 days a step's duration may be.
 */
export function parseDoraWindow(text: string): number {
  const trimmed = text.trim();
  const re = /(\d+(?:\.\d+)?)(w|d|h|m)/gy;
  const unit = { w: 7 * day, d: day, h: 3_600_000, m: 60_000 } as const;
  let total = 0;
  let matched = 0;
  for (let m = re.exec(trimmed); m; m = re.exec(trimmed)) {
    total += Number(m[1]) * unit[m[2] as keyof typeof unit];
    matched = re.lastIndex;
  }
  if (matched === 0 || matched !== trimmed.length || total < 60_000) {
    throw new ShipgateError('deployments.window', `"${trimmed.slice(0, 40)}" is not a window of a minute or more`, { hint: 'write it with units: 30d, 2w, 12h, 90m' });
  }
  return Math.round(total);
}
