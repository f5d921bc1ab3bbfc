// Prometheus metrics of one app instance, on its own registry (several instances in one process,
// as in the tests, never clash). Outbox depth is read from the database when scraped, so every
// replica reports the shared queue.
import type { DoraReport } from '@shipgate/core';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { registerDoraMetrics } from './dora-metrics.js';
import { PipelineRunMetrics } from './pipeline-runs.js';

export class AppMetrics {
  readonly registry = new Registry();
  readonly approvals = new Counter({ name: 'shipgate_approvals_total', help: 'Approvals that reached a final state, by outcome', labelNames: ['outcome', 'environment'] as const, registers: [this.registry] });
  readonly requests = new Counter({ name: 'shipgate_approval_requests_total', help: 'Approval requests received over the API', labelNames: ['environment'] as const, registers: [this.registry] });
  readonly timeToDecision = new Histogram({
    name: 'shipgate_approval_time_to_decision_seconds',
    help: 'From the request to its decision (approved, rejected or expired)',
    labelNames: ['outcome'] as const,
    buckets: [5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 86400],
    registers: [this.registry],
  });
  readonly backendCalls = new Counter({ name: 'shipgate_backend_calls_total', help: 'Calls to backends (CodePipeline, Jenkins, GitHub, rollbacks), by result', labelNames: ['backend', 'result'] as const, registers: [this.registry] });
  readonly backendErrors = new Counter({ name: 'shipgate_backend_errors_total', help: 'Failed backend calls (each attempt)', labelNames: ['backend'] as const, registers: [this.registry] });
  readonly slackActions = new Counter({ name: 'shipgate_slack_actions_total', help: 'Clicks and submissions, by action and result', labelNames: ['action', 'result'] as const, registers: [this.registry] });
  readonly apiRefusals = new Counter({ name: 'shipgate_api_refusals_total', help: 'API requests refused before any work: a missing or wrong token, or over the rate limit', labelNames: ['reason'] as const, registers: [this.registry] });
  readonly deployments = new Counter({ name: 'shipgate_deployments_total', help: 'Deployments recorded over the API, by outcome', labelNames: ['service', 'environment', 'outcome'] as const, registers: [this.registry] });
  readonly pipelineRuns = new PipelineRunMetrics(this.registry);
  readonly outboxDepth: Gauge;

  /** `dora`: the DORA report of the app's window, for the shipgate_dora_* series (see dora-metrics.ts). */
  constructor(depth: () => Promise<number>, options: { defaultMetrics?: boolean; dora?: () => Promise<DoraReport> } = {}) {
    this.outboxDepth = new Gauge({
      name: 'shipgate_outbox_depth',
      help: 'Work written but not yet done (backend calls, Slack messages)',
      registers: [this.registry],
      async collect() {
        this.set(await depth());
      },
    });
    if (options.dora) registerDoraMetrics(this.registry, options.dora);
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }
}
