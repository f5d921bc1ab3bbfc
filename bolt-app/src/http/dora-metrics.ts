// The DORA metrics on /metrics, per service and environment over the app's window
// (SHIPGATE_DORA_WINDOW, default 30 days). Computed from the deployment history when scraped, once
// per scrape however many series ask: every replica reports the shared history the same way.
//
// The two histograms hold the window's lead times and restore times, rebuilt at each scrape: read
// them with histogram_quantile over their buckets as they are, never through rate() — they are
// the window's distribution, not a counter since start.
import type { DoraMetrics, DoraReport } from '@shipgate/core';
import { Gauge, Histogram, type Registry } from 'prom-client';

const labelNames = ['service', 'environment'] as const;
/** 5 min … 30 days: from a hot-fix to a month-old branch. */
const durationBuckets = [300, 900, 1800, 3600, 4 * 3600, 12 * 3600, 86_400, 3 * 86_400, 7 * 86_400, 14 * 86_400, 30 * 86_400];

type Labels = Record<(typeof labelNames)[number], string>;
const gauges = {
  deployments: ['shipgate_dora_deployments', 'Successful deployments of a change in the window (deployment frequency)', (m: DoraMetrics) => m.deployments],
  perDay: ['shipgate_dora_deployments_per_day', 'Successful deployments of a change per day of the window', (m: DoraMetrics) => m.deploymentsPerDay],
  changes: ['shipgate_dora_changes', 'Deployments of a change in the window, any outcome', (m: DoraMetrics) => m.changes],
  failures: ['shipgate_dora_change_failures', 'Changes in the window that failed, were rolled back or needed a fix-forward', (m: DoraMetrics) => m.failures],
  failureRate: ['shipgate_dora_change_failure_ratio', 'Change failure rate in the window (0 to 1)', (m: DoraMetrics) => m.changeFailureRate],
  leadTime: ['shipgate_dora_lead_time_median_seconds', 'Median lead time for changes (commit to deploy success) in the window', (m: DoraMetrics) => m.leadTime?.medianSeconds ?? null],
  restore: ['shipgate_dora_time_to_restore_median_seconds', 'Median time to restore (failed change to the next good deployment) in the window', (m: DoraMetrics) => m.timeToRestore?.medianSeconds ?? null],
  unrestored: ['shipgate_dora_unrestored_failures', 'Failed changes in the window with no good deployment after them yet', (m: DoraMetrics) => m.unrestored],
} as const;

/** Registers the DORA series on `registry`; `report` is asked at most once per scrape. */
export function registerDoraMetrics(registry: Registry, report: () => Promise<DoraReport>): void {
  const snapshot = oncePerScrape(report);
  new Gauge({
    name: 'shipgate_dora_window_seconds',
    help: 'The window the shipgate_dora_* series are computed over',
    registers: [registry],
    async collect() {
      this.set((await snapshot()).windowDays * 86_400);
    },
  });
  for (const [name, help, value] of Object.values(gauges)) {
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        this.reset();
        for (const group of (await snapshot()).groups) {
          const v = value(group);
          if (v !== null) this.set(labelsOf(group), v);
        }
      },
    });
  }
  samplesHistogram(registry, snapshot, 'shipgate_dora_lead_time_seconds', 'Lead times for changes in the window (commit to deploy success)', (m) => m.leadTimesSeconds);
  samplesHistogram(registry, snapshot, 'shipgate_dora_time_to_restore_seconds', 'Times to restore in the window (failed change to the next good deployment)', (m) => m.restoreTimesSeconds);
}

function samplesHistogram(registry: Registry, snapshot: () => Promise<DoraReport>, name: string, help: string, samples: (m: DoraMetrics) => number[]): void {
  new Histogram({
    name,
    help,
    labelNames,
    buckets: durationBuckets,
    registers: [registry],
    async collect() {
      this.reset();
      for (const group of (await snapshot()).groups) for (const s of samples(group)) this.observe(labelsOf(group), s);
    },
  });
}

const labelsOf = (m: DoraMetrics): Labels => ({ service: m.service, environment: m.environment });

/** The same promise to every series of one scrape (they collect concurrently); a new one after a second. */
function oncePerScrape<T>(load: () => Promise<T>, ttlMs = 1000): () => Promise<T> {
  let cached: { at: number; value: Promise<T> } | undefined;
  return () => {
    const now = Date.now();
    if (!cached || now - cached.at > ttlMs) {
      const value = load();
      // a failed load is not kept: the next scrape asks again
      value.catch(() => (cached = undefined));
      cached = { at: now, value };
    }
    return cached.value;
  };
}
