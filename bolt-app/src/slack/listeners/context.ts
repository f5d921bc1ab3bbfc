// What every Slack listener shares: its dependencies (passed in, never global), the ephemeral
// reply to the clicker, the access check of an approval button, and the bookkeeping after a
// decision. Listeners get Bolt's `ack`, `body` and `client` as arguments and call these with them.
import type { AllMiddlewareArgs } from '@slack/bolt';
import type { Logger } from 'pino';
import { mayAct } from '../../approvals/access.js';
import type { Approval } from '../../approvals/model.js';
import { environmentPolicy, type AppConfig } from '../../config.js';
import type { AppMetrics } from '../../http/metrics.js';
import type { Store } from '../../store/store.js';
import type { ApproverDirectory } from '../directory.js';
import { escapeText } from '../messages.js';
import { deniedText, refusalText } from './replies.js';

export interface HandlerDeps {
  store: Store;
  config: () => AppConfig;
  directory: ApproverDirectory;
  metrics: AppMetrics;
  logger: Logger;
  now: () => Date;
  /** The window of `/shipgate dora` (SHIPGATE_DORA_WINDOW). */
  doraWindowMs: number;
  /** New outbox work was committed. */
  onWork: () => void;
  /** An approval reached a final state (wakes long-polls). */
  onDecided: (approval: Approval) => void;
}

export type SlackClient = AllMiddlewareArgs['client'];

/**
 * After ack(): yield to the event loop's check phase, so requests already waiting (other clicks in
 * a burst) are read and acked before this one's database work starts.
 */
export function afterAcks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export class ListenerContext {
  readonly log: Logger;

  constructor(readonly deps: HandlerDeps) {
    this.log = deps.logger.child({ component: 'slack' });
  }

  get store(): Store {
    return this.deps.store;
  }

  get metrics(): AppMetrics {
    return this.deps.metrics;
  }

  /** An ephemeral message to `user` only; a failure to send it is logged, not thrown. */
  async tell(client: SlackClient, channel: string | undefined | null, user: string, text: string): Promise<void> {
    if (!channel) return;
    await client.chat.postEphemeral({ channel, user, text }).catch((error: unknown) => this.log.warn({ err: (error as Error).message }, 'chat.postEphemeral failed'));
  }

  /** Loads the approval a button names and checks the clicker may act on it; tells them if not. */
  async authorised(args: { client: SlackClient; userId: string; approvalId: string | undefined; channel: string | undefined; action: 'approve' | 'reject' }): Promise<Approval | undefined> {
    const { client, userId, approvalId, channel, action } = args;
    const approval = approvalId ? await this.store.approvals.get(approvalId) : undefined;
    if (!approval) {
      this.metrics.slackActions.inc({ action, result: 'not-found' });
      await this.store.audit.record({ actor: userId, action: `approval.${action === 'approve' ? 'approved' : 'rejected'}`, subjectId: approvalId ?? null, outcome: 'not-found' });
      await this.tell(client, channel, userId, refusalText('not-found'));
      return undefined;
    }
    const policy = environmentPolicy(this.deps.config(), approval.environment);
    const requester = policy && !policy.selfApprove && action === 'approve' ? await this.deps.directory.requester(approval.requester) : undefined;
    const actor = await this.deps.directory.actor(userId, policy, requester);
    const access = mayAct(policy, actor, action, requester);
    if (!access.allowed) {
      this.metrics.slackActions.inc({ action, result: 'denied' });
      await this.store.audit.record({ actor: userId, action: 'access.denied', subjectId: approval.id, outcome: access.why, detail: { action, environment: approval.environment } });
      this.log.info({ user: userId, approval: approval.id, why: access.why }, 'not allowed');
      await this.tell(client, channel ?? approval.channel, userId, `You cannot ${action} *${escapeText(approval.service)}* \`${escapeText(approval.version)}\` to *${escapeText(approval.environment)}*: ${deniedText[access.why]}.`);
      return undefined;
    }
    return approval;
  }

  /** Counts a decision, wakes the outbox worker and the long-polls waiting for it. */
  decided(approval: Approval): void {
    this.metrics.approvals.inc({ outcome: approval.state, environment: approval.environment });
    if (approval.decidedAt) this.metrics.timeToDecision.observe({ outcome: approval.state }, (approval.decidedAt.getTime() - approval.createdAt.getTime()) / 1000);
    this.deps.onWork();
    this.deps.onDecided(approval);
  }

  /** A button payload without the value this app put there: nothing to act on. */
  async malformed(action: string, userId: string | undefined, detail: Record<string, unknown>): Promise<void> {
    this.metrics.slackActions.inc({ action, result: 'malformed' });
    this.log.warn({ action, ...detail }, 'malformed Slack payload');
    await this.store.audit.record({ actor: userId ?? null, action: `slack.${action}`, outcome: 'malformed', detail });
  }
}
