// `uses: approval` — asks the shipgate Slack app for an approval and waits for the decision.
// The app posts Approve / Reject to the environment's channel; this step long-polls the app until
// someone decides, the approval expires, or the step's own deadline passes.
import { setTimeout as sleep } from 'node:timers/promises';
import * as z from 'zod';
import { defineStep, type StepContext } from '@shipgate/protocol';
import { ExitCode, ShipgateError } from '@shipgate/protocol';
import { parseDuration } from '@shipgate/protocol';
import { durationInput } from '@shipgate/protocol';
import { ApprovalClient, type ApprovalBackend } from './client.js';
import { defaultIdempotencyKey, maxWaitSeconds, nextMove, waitDeadline, type ApprovalStatus } from './decision.js';

const duration = durationInput;

const backend = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('shipgate') }),
  z.strictObject({ kind: z.literal('codepipeline'), pipeline: z.string().min(1), stage: z.string().min(1), action: z.string().min(1), region: z.string().optional() }),
  z.strictObject({ kind: z.literal('jenkins'), buildUrl: z.url(), inputId: z.string().min(1).default('ShipgateApproval') }),
  z.strictObject({ kind: z.literal('github'), repository: z.string().regex(/^[^/]+\/[^/]+$/, 'must be owner/name'), runId: z.union([z.string(), z.number()]), environmentIds: z.array(z.number().int()) }),
]);

export const approvalInputs = z.strictObject({
  service: z.string().min(1).describe('The service being deployed, e.g. orders.'),
  environment: z.string().min(1).describe('Where it goes, e.g. production (picks the Slack channel and approvers).'),
  version: z.string().min(1).describe('The version or tag asked for, e.g. 1.4.2.'),
  digest: z.string().optional().describe('The image digest (sha256:…) the approvers see.'),
  summary: z.string().optional().describe('Markdown shown in the Slack message: changes, gate results.'),
  requester: z.string().optional().describe('Who asks (default: the CI actor).'),
  'expires-in': duration.default('1h').describe('How long approvers have: 90s, 30m, 1h (default 1h).'),
  timeout: duration.optional().describe('Stop waiting after this long even if the approval is still open (default: until it expires).'),
  'idempotency-key': z.string().optional().describe('Same key, same approval (default: repository, run id and attempt, step, environment and version).'),
  backend: backend.default({ kind: 'shipgate' }).describe('Who else is told of the decision: {kind: shipgate} (this run only), codepipeline, jenkins or github.'),
  'poll-seconds': z.number().int().min(1).max(maxWaitSeconds).default(maxWaitSeconds).describe('Long-poll length per request, 1–60 s.'),
  url: z.url().optional().describe('The Slack app (default $SHIPGATE_APP_URL).'),
  token: z.string().min(1).optional().describe('API token (default $SHIPGATE_API_TOKEN); masked.'),
});

export interface ApprovalStepOptions {
  fetch?: typeof fetch;
  retryBaseDelayMs?: number;
  maxAttempts?: number;
}

type ApprovalInputs = z.output<typeof approvalInputs>;
type ApprovalContext = StepContext<ApprovalInputs>;

/** The Slack app's client, from the inputs or SHIPGATE_APP_URL / SHIPGATE_API_TOKEN (the token masked). */
function appClient(ctx: ApprovalContext, options: ApprovalStepOptions): ApprovalClient {
  const { inputs, env } = ctx;
  const baseUrl = inputs.url ?? env.SHIPGATE_APP_URL;
  const token = inputs.token ?? env.SHIPGATE_API_TOKEN;
  if (!baseUrl) throw new ShipgateError('approval.no-url', 'the approval step needs the Slack app URL: set SHIPGATE_APP_URL or the url input', { hint: 'e.g. SHIPGATE_APP_URL=https://shipgate.example.com' });
  if (!token) throw new ShipgateError('approval.no-token', 'the approval step needs an API token: set SHIPGATE_API_TOKEN or the token input', { hint: 'create one in the Slack app (see bolt-app/README.md) and store it as a CI secret' });
  ctx.setSecret(token);
  return new ApprovalClient({
    baseUrl,
    token,
    signal: ctx.signal,
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.retryBaseDelayMs === undefined ? {} : { retryBaseDelayMs: options.retryBaseDelayMs }),
    ...(options.maxAttempts === undefined ? {} : { maxAttempts: options.maxAttempts }),
    onRetry: (message) => ctx.logger.warn(`Slack app: ${message}`),
  });
}

/** What `POST /api/approvals` carries for these inputs, in this run. */
function approvalRequest(ctx: ApprovalContext, expiresInSeconds: number): Parameters<ApprovalClient['create']>[0] {
  const { inputs, ci } = ctx;
  const run = { repository: ci.repository, runId: ci.runId, attempt: ctx.env.GITHUB_RUN_ATTEMPT };
  const idempotencyKey = inputs['idempotency-key'] ?? defaultIdempotencyKey(run, ctx.id, inputs.environment, inputs.version);
  const requester = inputs.requester ?? ci.actor;
  return {
    service: inputs.service,
    environment: inputs.environment,
    version: inputs.version,
    expiresInSeconds,
    backend: inputs.backend as ApprovalBackend,
    ...(inputs.digest ? { digest: inputs.digest } : {}),
    ...(inputs.summary ? { summary: inputs.summary } : {}),
    ...(requester ? { requester } : {}),
    ...(idempotencyKey ? { idempotencyKey } : {}),
  };
}

/** The step summary: one row with the decision. */
function decisionTable(inputs: ApprovalInputs, state: string, by = '', at = ''): string {
  return ['### Approval', '', '| service | environment | version | decision | by | at |', '| --- | --- | --- | --- | --- | --- |', `| ${inputs.service} | ${inputs.environment} | ${inputs.version} | ${state} | ${by} | ${at} |`].join('\n');
}

/** Long-polls the app until the approval is decided or expires, or `deadline` passes; only an approval returns. */
async function waitForDecision(ctx: ApprovalContext, client: ApprovalClient, id: string, deadline: number): Promise<void> {
  const { inputs } = ctx;
  const what = `${inputs.service} ${inputs.version} to ${inputs.environment}`;
  let status: ApprovalStatus = { id, state: 'pending' };
  // Bounded: each pass either ends the step or long-polls; the deadline ends the loop.
  for (;;) {
    const move = nextMove(status, Date.now(), deadline, inputs['poll-seconds']);
    switch (move.kind) {
      case 'approved':
        ctx.setOutput('decided-by', move.decidedBy);
        ctx.setOutput('decided-at', move.decidedAt);
        ctx.summary(decisionTable(inputs, '✅ approved', move.decidedBy, move.decidedAt));
        ctx.logger.info(`approved by ${move.decidedBy} at ${move.decidedAt}`);
        return;
      case 'rejected':
        ctx.summary(decisionTable(inputs, '❌ rejected', move.decidedBy, status.decidedAt));
        throw new ShipgateError('approval.rejected', `${what} was rejected by ${move.decidedBy}: ${move.reason}`, { exitCode: ExitCode.failed, hint: 'address the reason, then run the pipeline again for a new approval' });
      case 'expired':
        ctx.summary(decisionTable(inputs, '⌛ expired'));
        throw new ShipgateError('approval.expired', `the approval for ${what} expired before anyone decided`, { exitCode: ExitCode.failed, hint: 'ask again, or raise expires-in' });
      case 'timed-out':
        ctx.summary(decisionTable(inputs, '⌛ not decided in time'));
        throw new ShipgateError('approval.timeout', `no decision on ${what} within the step's timeout; approval ${id} stays open in Slack`, { exitCode: ExitCode.failed, hint: 'raise the timeout input; the approval can still be decided in Slack until it expires' });
      case 'wait': {
        const before = Date.now();
        status = await client.status(id, move.waitSeconds);
        // An app (or proxy) that answers at once must not turn the wait into a busy loop.
        if (status.state === 'pending' && Date.now() - before < 1000) await sleep(1000, undefined, { signal: ctx.signal });
        break;
      }
    }
  }
}

/** The approval step with its I/O injectable (tests pass a fast back-off). */
export function createApprovalStep(options: ApprovalStepOptions = {}) {
  return defineStep({
    name: 'approval',
    description: 'Asks the shipgate Slack app for an approval and waits until it is approved (rejected or expired fails the step).',
    inputs: approvalInputs,
    outputs: {
      'approval-id': 'the approval id in the Slack app',
      'decided-by': 'who approved (Slack user)',
      'decided-at': 'when it was approved (ISO 8601)',
    },
    async run(ctx) {
      const { inputs } = ctx;
      const client = appClient(ctx, options);
      const expiresInSeconds = Math.ceil(parseDuration(inputs['expires-in']) / 1000);
      const created = await client.create(approvalRequest(ctx, expiresInSeconds));
      ctx.setOutput('approval-id', created.id);
      ctx.logger.info(`approval ${created.id} asked for ${inputs.service} ${inputs.version} to ${inputs.environment}; waiting until ${created.expiresAt}`);
      const deadline = waitDeadline(Date.now(), created.expiresAt, expiresInSeconds, inputs.timeout ? parseDuration(inputs.timeout) : undefined);
      await waitForDecision(ctx, client, created.id, deadline);
    },
  });
}

export const approvalStep = createApprovalStep();
