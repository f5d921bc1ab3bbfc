// `POST /api/runs`: a pipeline run's report.json (what `shipgate run` writes to .shipgate/), counted
// into the pipeline series of /metrics — run and step durations, outcomes per step. CI runners come
// and go and cannot be scraped; the Slack app they already talk to keeps the counts, as a
// Pushgateway would. Only the fields counted are read; the log tails and the rest are ignored.
import * as z from 'zod';
import { Counter, Histogram, type Registry } from 'prom-client';

const name = z.string().trim().min(1).max(200);
const outcome = z.enum(['success', 'failure', 'cancelled', 'timed-out', 'skipped', 'cached']);

export const runReportSchema = z.object({
  schemaVersion: z.literal(1),
  runId: name,
  pipeline: name,
  durationMs: z.number().nonnegative(),
  outcome: z.enum(['success', 'failure', 'cancelled']),
  invocations: z.array(z.object({ stepId: name, outcome, durationMs: z.number().nonnegative() })).max(5000),
});
export type RunReportBody = z.infer<typeof runReportSchema>;

/** 5 s … 2 h: a lint step to a full release pipeline. */
const runBuckets = [5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200];

export class PipelineRunMetrics {
  readonly runs: Counter<'pipeline' | 'outcome'>;
  readonly runDuration: Histogram<'pipeline'>;
  readonly steps: Counter<'pipeline' | 'step' | 'outcome'>;
  readonly stepDuration: Histogram<'pipeline' | 'step'>;
  /** Run ids already counted (a retried POST is counted once), newest last, bounded. */
  readonly #seen = new Set<string>();

  constructor(registry: Registry) {
    this.runs = new Counter({ name: 'shipgate_pipeline_runs_total', help: 'Pipeline runs reported over POST /api/runs, by outcome', labelNames: ['pipeline', 'outcome'], registers: [registry] });
    this.runDuration = new Histogram({ name: 'shipgate_pipeline_run_duration_seconds', help: 'Duration of reported pipeline runs', labelNames: ['pipeline'], buckets: runBuckets, registers: [registry] });
    this.steps = new Counter({ name: 'shipgate_pipeline_step_runs_total', help: 'Step invocations of reported runs, by outcome (success, failure, timed-out, cancelled, skipped, cached)', labelNames: ['pipeline', 'step', 'outcome'], registers: [registry] });
    this.stepDuration = new Histogram({ name: 'shipgate_pipeline_step_duration_seconds', help: 'Duration of step invocations that ran (success, failure, timed-out)', labelNames: ['pipeline', 'step'], buckets: runBuckets, registers: [registry] });
  }

  /** Counts a run once; returns false when its run id was counted already. */
  count(run: RunReportBody): boolean {
    const key = `${run.pipeline}\u0000${run.runId}`;
    if (this.#seen.has(key)) return false;
    this.#seen.add(key);
    if (this.#seen.size > 10_000) this.#seen.delete(this.#seen.values().next().value!);
    this.runs.inc({ pipeline: run.pipeline, outcome: run.outcome });
    this.runDuration.observe({ pipeline: run.pipeline }, run.durationMs / 1000);
    for (const inv of run.invocations) {
      this.steps.inc({ pipeline: run.pipeline, step: inv.stepId, outcome: inv.outcome });
      if (inv.outcome === 'success' || inv.outcome === 'failure' || inv.outcome === 'timed-out') this.stepDuration.observe({ pipeline: run.pipeline, step: inv.stepId }, inv.durationMs / 1000);
    }
    return true;
  }
}
