// Works through the outbox: tells backends of decisions, runs rollbacks, posts and updates Slack
// messages. Rows are claimed with a lease (see Outbox.claim), so replicas share the
// work and a row left by a crashed process is picked up again once its lease lapses. A backend is
// called once per attempt; a row is retried with exponential back-off and jitter, and given up
// (with a note in Slack and the audit trail) after `maxAttempts`.
import { randomBytes } from 'node:crypto';
import type { webApi } from '@slack/bolt';
import type { Logger } from 'pino';
import { verdictOf } from '../approvals/machine.js';
import type { Approval, Deployment } from '../approvals/model.js';
import { planRollback, rolledBackParent } from '../approvals/rollback.js';
import { BackendError, type DecisionBackend, type DecisionBackends, type RollbackBackend, type RollbackBackends } from '../backends/types.js';
import { environmentPolicy, type AppConfig } from '../config.js';
import type { AppMetrics } from '../http/metrics.js';
import { maskSecrets } from '../log.js';
import { approvalMessage, deploymentMessage, escapeText } from '../slack/messages.js';
import type { OutboxRow } from '../store/outbox.js';
import type { Store } from '../store/store.js';

export interface OutboxWorkerOptions {
  store: Store;
  slack: webApi.WebClient;
  config: () => AppConfig;
  decisionBackends: DecisionBackends;
  rollbackBackends: RollbackBackends;
  metrics: AppMetrics;
  logger: Logger;
  now?: () => Date;
  /** How long a claimed row is held before another replica may take it (longer than any call). */
  leaseSeconds?: number;
  pollMs?: number;
  concurrency?: number;
  maxAttempts?: number;
  /** Timeout of one backend call. */
  callTimeoutMs?: number;
  /** Timeout of one rollback (a CodeDeploy rollback is followed to its end). Default 35 min. */
  rollbackTimeoutMs?: number;
  /** First retry delay; doubles per attempt, with jitter, up to 5 minutes. */
  retryBaseSeconds?: number;
  /** Strings never to write to logs or Slack (tokens). */
  secrets?: ReadonlyArray<string | undefined>;
}

/** A Slack message to reply under. */
interface SlackThread {
  channel: string;
  ts: string;
}

/** Not done yet, and not a failure: try again soon (a Slack message its update waits for). */
class NotYet extends Error {}

export class OutboxWorker {
  readonly id = `w_${randomBytes(5).toString('hex')}`;
  readonly #o: Required<Omit<OutboxWorkerOptions, 'secrets'>> & { secrets: ReadonlyArray<string | undefined> };
  #running = false;
  #inflight = new Set<Promise<void>>();
  #wake: (() => void) | undefined;
  #loop: Promise<void> | undefined;
  #pokes = 0;

  constructor(options: OutboxWorkerOptions) {
    const o = { now: () => new Date(), leaseSeconds: 120, pollMs: 1000, concurrency: 4, maxAttempts: 8, callTimeoutMs: 15_000, rollbackTimeoutMs: 35 * 60_000, retryBaseSeconds: 2, secrets: [], ...options };
    // a call must end well inside its row's lease, or another replica could take the row and call
    // the backend a second time while the first call is still running
    o.callTimeoutMs = Math.min(o.callTimeoutMs, (o.leaseSeconds * 1000) / 2);
    this.#o = o;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#loop = this.#run();
  }

  /** Stops claiming; waits for the rows in hand to finish. */
  async stop(): Promise<void> {
    this.#running = false;
    this.#wake?.();
    await this.#loop;
    await Promise.allSettled([...this.#inflight]);
  }

  /** New work was written: look now rather than at the next poll. */
  poke(): void {
    this.#pokes++;
    this.#wake?.();
  }

  async #run(): Promise<void> {
    while (this.#running) {
      const pokes = this.#pokes;
      let claimed: OutboxRow[] = [];
      const room = this.#o.concurrency - this.#inflight.size;
      if (room > 0) {
        try {
          claimed = await this.#o.store.outbox.claim(this.id, this.#o.leaseSeconds, room);
        } catch (error) {
          if (this.#running) this.#o.logger.error({ err: (error as Error).message }, 'outbox claim failed');
        }
      }
      for (const row of claimed) {
        const p = this.#work(row).finally(() => {
          this.#inflight.delete(p);
          this.#wake?.();
        });
        this.#inflight.add(p);
      }
      if (claimed.length === room && room > 0) continue;
      if (pokes !== this.#pokes) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.#o.pollMs);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = undefined;
    }
  }

  async #work(row: OutboxRow): Promise<void> {
    const log = this.#o.logger.child({ outbox: row.id, kind: row.kind, subject: row.subjectId, attempt: row.attempts });
    try {
      switch (row.kind) {
        case 'slack.approval':
          await this.#slackApproval(row);
          break;
        case 'slack.deployment':
          await this.#slackDeployment(row);
          break;
        case 'slack.thread':
          await this.#slackThread(row);
          break;
        case 'backend.notify':
          await this.#notify(row);
          return;
        case 'rollback.run':
          await this.#rollback(row);
          return;
      }
      await this.#o.store.outbox.complete(row.id, this.id);
    } catch (error) {
      await this.#failed(row, error, log);
    }
  }

  #mask(text: string): string {
    return maskSecrets(text, this.#o.secrets);
  }

  async #failed(row: OutboxRow, error: unknown, log: Logger, onDead?: () => Promise<void>): Promise<void> {
    const notYet = error instanceof NotYet;
    const retryable = notYet || !(error instanceof BackendError) || error.retryable;
    // waiting for the message it updates is not a failure of its own: it may wait as long as the
    // post is retried (about 15 minutes here, well past the post's own attempts)
    const dead = !retryable || row.attempts >= (notYet ? this.#o.maxAttempts * 4 : this.#o.maxAttempts);
    const message = this.#mask(error instanceof Error ? error.message : String(error));
    const delay = notYet ? Math.min(30, 0.25 * 2 ** (row.attempts - 1)) : Math.min(300, this.#o.retryBaseSeconds * 2 ** (row.attempts - 1)) * (0.5 + Math.random() / 2);
    if (!notYet) log[dead ? 'error' : 'warn']({ err: message, dead, retryInSeconds: dead ? undefined : Math.round(delay * 10) / 10 }, 'outbox work failed');
    try {
      await this.#o.store.outbox.retry(row.id, this.id, message, { delaySeconds: delay, dead });
      if (dead) await onDead?.();
    } catch (e) {
      log.error({ err: (e as Error).message }, 'could not record the outbox failure (the lease will lapse and the row is retried)');
    }
  }

  async #approval(id: string): Promise<Approval> {
    const a = await this.#o.store.approvals.get(id);
    if (!a) throw new BackendError(`approval ${id} is gone`, false);
    return a;
  }

  async #deployment(id: string): Promise<Deployment> {
    const d = await this.#o.store.deployments.get(id);
    if (!d) throw new BackendError(`deployment ${id} is gone`, false);
    return d;
  }

  /** Posts the approval message, or redraws it from the current state (so updates may come in any order). */
  async #slackApproval(row: OutboxRow): Promise<void> {
    const a = await this.#approval(row.subjectId);
    const message = approvalMessage(a, environmentPolicy(this.#o.config(), a.environment)?.approvers ?? []);
    if (!a.channel) return;
    if (a.messageTs) {
      await this.#o.slack.chat.update({ channel: a.channel, ts: a.messageTs, ...message });
    } else if (await this.#postPending(row, 'slack.approval')) {
      throw new NotYet('the approval message is not posted yet');
    } else {
      const res = await this.#o.slack.chat.postMessage({ channel: a.channel, ...message });
      await this.#o.store.approvals.setMessage(a.id, res.channel ?? a.channel, String(res.ts));
    }
  }

  /** Whether an earlier row for the same subject (the one that posts) is still to be done. */
  async #postPending(row: OutboxRow, kind: OutboxRow['kind']): Promise<boolean> {
    return this.#o.store.outbox.earlierOpen(row, kind);
  }

  async #slackDeployment(row: OutboxRow): Promise<void> {
    const d = await this.#deployment(row.subjectId);
    const history = await this.#o.store.deployments.history(d.service, d.environment);
    const plan = planRollback(history, d.id);
    const message = deploymentMessage(d, plan.ok ? plan.to : undefined);
    if (d.messageTs && d.channel) {
      await this.#o.slack.chat.update({ channel: d.channel, ts: d.messageTs, ...message });
      return;
    }
    if (await this.#postPending(row, 'slack.deployment')) throw new NotYet('the deployment message is not posted yet');
    // a rollback's record goes into the thread of the deployment it undid, and so does a
    // pipeline's own `rolled-back` record (a verify step's); a deploy that went out under an
    // approval goes into that approval's thread (and to the channel)
    let thread: SlackThread | undefined;
    if (d.rollbackOf) {
      const from = await this.#deployment(d.rollbackOf);
      if (from.channel && from.messageTs) thread = { channel: from.channel, ts: from.messageTs };
    } else {
      const parent = d.outcome === 'rolled-back' ? rolledBackParent(history, d) : undefined;
      if (parent) thread = await this.#threadOf(parent);
      if (!thread && d.approvalId) thread = await this.#approvalThread(d.approvalId);
    }
    const channel = thread?.channel ?? d.channel;
    if (!channel) return;
    const res = thread ? await this.#o.slack.chat.postMessage({ channel, ...message, thread_ts: thread.ts, reply_broadcast: true }) : await this.#o.slack.chat.postMessage({ channel, ...message });
    await this.#o.store.deployments.setMessage(d.id, res.channel ?? channel, String(res.ts));
  }

  /** The thread a deployment's message is in: its own, or its approval's when it was posted as a reply there. */
  async #threadOf(d: Deployment): Promise<SlackThread | undefined> {
    if (!d.channel || !d.messageTs) return undefined;
    const approval = d.approvalId && !d.rollbackOf ? await this.#approvalThread(d.approvalId) : undefined;
    return approval ?? { channel: d.channel, ts: d.messageTs };
  }

  async #approvalThread(id: string): Promise<SlackThread | undefined> {
    const a = await this.#o.store.approvals.get(id);
    return a?.channel && a.messageTs ? { channel: a.channel, ts: a.messageTs } : undefined;
  }

  async #slackThread(row: OutboxRow): Promise<void> {
    const parent = row.payload.subject === 'deployment' ? await this.#deployment(row.subjectId) : await this.#approval(row.subjectId);
    if (!parent.channel) return;
    if (!parent.messageTs) throw new NotYet('the parent message is not posted yet');
    // thread notes quote backends' answers and request fields (an input id, a version): text only
    await this.#o.slack.chat.postMessage({ channel: parent.channel, thread_ts: parent.messageTs, text: escapeText(String(row.payload.text ?? '')) });
  }

  #signal(): AbortSignal {
    return AbortSignal.timeout(this.#o.callTimeoutMs);
  }

  /** Tells the approval's backend of its final state: once per attempt, the result audited. */
  async #notify(row: OutboxRow): Promise<void> {
    const log = this.#o.logger.child({ outbox: row.id, approval: row.subjectId, attempt: row.attempts });
    let a: Approval;
    try {
      a = await this.#approval(row.subjectId);
    } catch (error) {
      return this.#failed(row, error, log);
    }
    if (a.state === 'pending') return this.#failed(row, new BackendError('approval is still pending', false), log);
    const kind = a.backend.kind;
    const verdict = verdictOf(a.state);
    const comment = a.state === 'expired' ? `Expired: nobody decided by ${a.expiresAt.toISOString()} (shipgate)` : `${verdict === 'approved' ? 'Approved' : 'Rejected'} in Slack by ${a.decidedBy ?? 'someone'}${a.reason ? `: ${a.reason}` : ''} (shipgate)`;
    const call = this.#o.decisionBackends[kind] as DecisionBackend;
    try {
      const result = await call(a.backend, a, { verdict, comment, signal: this.#signal() });
      this.#o.metrics.backendCalls.inc({ backend: kind, result: 'ok' });
      log.info({ backend: kind, verdict, detail: result.detail }, 'backend told');
      await this.#o.store.outbox.complete(row.id, this.id, {
        work: kind === 'shipgate' ? [] : [{ kind: 'slack.thread', subjectId: a.id, payload: { subject: 'approval', text: `:satellite_antenna: ${result.detail}` } }],
        audit: [{ actor: null, action: 'backend.called', subjectId: a.id, outcome: 'ok', detail: { backend: kind, verdict, detail: result.detail, attempt: row.attempts } }],
      });
    } catch (error) {
      this.#o.metrics.backendCalls.inc({ backend: kind, result: 'error' });
      this.#o.metrics.backendErrors.inc({ backend: kind });
      const message = this.#mask((error as Error).message);
      await this.#o.store.audit.record({ action: 'backend.called', subjectId: a.id, outcome: 'error', detail: { backend: kind, verdict, error: message, attempt: row.attempts } }).catch(() => undefined);
      await this.#failed(row, error, log, async () => {
        await this.#o.store.outbox.add([{ kind: 'slack.thread', subjectId: a.id, payload: { subject: 'approval', text: `:warning: Could not tell ${kind} of the decision after ${row.attempts} attempt(s): ${message}` } }]);
        this.poke();
      });
    }
  }

  async #rollback(row: OutboxRow): Promise<void> {
    const log = this.#o.logger.child({ outbox: row.id, deployment: row.subjectId, attempt: row.attempts });
    let from: Deployment;
    let to: Deployment;
    try {
      from = await this.#deployment(row.subjectId);
      if (!from.rollbackTargetId || !from.rollback) throw new BackendError(`deployment ${from.id} has no rollback target`, false);
      to = await this.#deployment(from.rollbackTargetId);
    } catch (error) {
      return this.#failed(row, error, log);
    }
    const spec = from.rollback!;
    const finish = async (ok: boolean, detail: string) => {
      await this.#o.store.rollbacks.finish(from.id, { ok, detail }, this.#o.now(), { id: row.id, worker: this.id });
      this.poke();
    };
    const backend = this.#o.rollbackBackends[spec.kind] as RollbackBackend | undefined;
    if (!backend) {
      this.#o.metrics.backendCalls.inc({ backend: `rollback-${spec.kind}`, result: 'error' });
      return finish(false, `no ${spec.kind} rollback backend is configured in this app`);
    }
    try {
      // the rollback may outlast the normal lease: hold the row for as long as it may take
      if (!(await this.#o.store.outbox.extendLease(row.id, this.id, (this.#o.rollbackTimeoutMs / 1000) * 1.2 + 60))) return;
      const result = await backend.rollback(spec, { from, to, requestedBy: from.rollbackBy ?? 'someone', signal: AbortSignal.timeout(this.#o.rollbackTimeoutMs) });
      this.#o.metrics.backendCalls.inc({ backend: `rollback-${spec.kind}`, result: 'ok' });
      log.info({ kind: spec.kind, detail: result.detail }, 'rolled back');
      await finish(true, result.detail);
    } catch (error) {
      this.#o.metrics.backendCalls.inc({ backend: `rollback-${spec.kind}`, result: 'error' });
      this.#o.metrics.backendErrors.inc({ backend: `rollback-${spec.kind}` });
      const message = this.#mask((error as Error).message);
      await this.#o.store.audit.record({ actor: from.rollbackBy, action: 'rollback.attempt', subjectId: from.id, outcome: 'error', detail: { kind: spec.kind, error: message, attempt: row.attempts } }).catch(() => undefined);
      const retryable = !(error instanceof BackendError) || error.retryable;
      if (!retryable || row.attempts >= this.#o.maxAttempts) return finish(false, message);
      await this.#failed(row, error, log);
    }
  }
}
