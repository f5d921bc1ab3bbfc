// The Slack listeners: Approve, Reject (a modal asks why), Rollback (its button carries a confirm
// dialog), and `/shipgate status <service>`. Each one acks first — Slack wants an answer within
// 3 s — then decides with the pure access rules and the store's one-shot transitions. A refusal is
// an ephemeral message to the clicker only, and every attempt is audited.
import type { App, BlockButtonAction, SlackActionMiddlewareArgs, AllMiddlewareArgs } from '@slack/bolt';
import type { Logger } from 'pino';
import { mayAct, type AccessDecision } from '../approvals/access.js';
import type { Approval } from '../approvals/model.js';
import { planRollback } from '../approvals/rollback.js';
import { environmentNames, environmentPolicy, type AppConfig } from '../config.js';
import type { AppMetrics } from '../http/metrics.js';
import type { ApprovalStore } from '../store/store.js';
import type { ApproverDirectory } from './directory.js';
import { actionIds, escapeText, parseRollbackValue, reasonActionId, reasonBlockId, rejectModal, rejectModalId, statusMessage } from './messages.js';

export interface HandlerDeps {
  store: ApprovalStore;
  config: () => AppConfig;
  directory: ApproverDirectory;
  metrics: AppMetrics;
  logger: Logger;
  now: () => Date;
  /** New outbox work was committed. */
  onWork: () => void;
  /** An approval reached a final state (wakes long-polls). */
  onDecided: (approval: Approval) => void;
}

const deniedText: Record<Exclude<AccessDecision, { allowed: true }>['why'], string> = {
  'unknown-environment': 'this environment is not in the Slack app’s config any more, so nobody can act on it here',
  'not-an-approver': 'you are not one of its approvers',
  'self-approval': 'you requested this deploy, and this environment needs someone else to approve it',
  'requester-unresolved': 'Slack could not tell whether you are the one who requested this deploy (it does not know the requester, or did not answer), and this environment needs someone else to approve it',
};

/**
 * After ack(): yield to the event loop's check phase, so requests already waiting (other clicks in
 * a burst) are read and acked before this one's database work starts.
 */
function afterAcks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function who(id: string | null): string {
  return id && /^[UW][A-Z0-9]+$/.test(id) ? `<@${id}>` : (id ?? 'someone');
}

function refusalText(refusal: string, approval?: Approval): string {
  if (refusal === 'expired') return 'This approval has expired: nothing was changed. Ask for a new one from the pipeline.';
  if (refusal === 'not-found') return 'This approval is not known to shipgate.';
  if (refusal === 'reason-required') return 'A rejection needs a reason.';
  if (approval) return `Too late: this deploy was already ${approval.state} by ${who(approval.decidedBy)}.`;
  return 'This approval was already decided.';
}

export function registerHandlers(app: App, deps: HandlerDeps): void {
  const { store, metrics } = deps;
  const log = deps.logger.child({ component: 'slack' });

  async function tell(client: AllMiddlewareArgs['client'], channel: string | undefined | null, user: string, text: string): Promise<void> {
    if (!channel) return;
    await client.chat.postEphemeral({ channel, user, text }).catch((error: unknown) => log.warn({ err: (error as Error).message }, 'chat.postEphemeral failed'));
  }

  /** Loads the approval a button names and checks the clicker may act on it; tells them if not. */
  async function authorised(args: { client: AllMiddlewareArgs['client']; userId: string; approvalId: string | undefined; channel: string | undefined; action: 'approve' | 'reject' }): Promise<Approval | undefined> {
    const { client, userId, approvalId, channel, action } = args;
    const approval = approvalId ? await store.getApproval(approvalId) : undefined;
    if (!approval) {
      metrics.slackActions.inc({ action, result: 'not-found' });
      await store.audit({ actor: userId, action: `approval.${action === 'approve' ? 'approved' : 'rejected'}`, subjectId: approvalId ?? null, outcome: 'not-found' });
      await tell(client, channel, userId, refusalText('not-found'));
      return undefined;
    }
    const policy = environmentPolicy(deps.config(), approval.environment);
    const requester = policy && !policy.selfApprove && action === 'approve' ? await deps.directory.requester(approval.requester) : undefined;
    const actor = await deps.directory.actor(userId, policy, requester);
    const access = mayAct(policy, actor, action, requester);
    if (!access.allowed) {
      metrics.slackActions.inc({ action, result: 'denied' });
      await store.audit({ actor: userId, action: 'access.denied', subjectId: approval.id, outcome: access.why, detail: { action, environment: approval.environment } });
      log.info({ user: userId, approval: approval.id, why: access.why }, 'not allowed');
      await tell(client, channel ?? approval.channel, userId, `You cannot ${action} *${escapeText(approval.service)}* \`${escapeText(approval.version)}\` to *${escapeText(approval.environment)}*: ${deniedText[access.why]}.`);
      return undefined;
    }
    return approval;
  }

  async function decided(approval: Approval): Promise<void> {
    metrics.approvals.inc({ outcome: approval.state, environment: approval.environment });
    if (approval.decidedAt) metrics.timeToDecision.observe({ outcome: approval.state }, (approval.decidedAt.getTime() - approval.createdAt.getTime()) / 1000);
    deps.onWork();
    deps.onDecided(approval);
  }

  /** A button payload without the value this app put there: nothing to act on. */
  async function malformed(action: string, userId: string | undefined, detail: Record<string, unknown>): Promise<void> {
    metrics.slackActions.inc({ action, result: 'malformed' });
    log.warn({ action, ...detail }, 'malformed Slack payload');
    await store.audit({ actor: userId ?? null, action: `slack.${action}`, outcome: 'malformed', detail });
  }

  app.action<BlockButtonAction>(actionIds.approve, async ({ ack, body, action, client }: SlackActionMiddlewareArgs<BlockButtonAction> & AllMiddlewareArgs) => {
    await ack();
    await afterAcks();
    const userId = body.user?.id;
    if (!userId || typeof action.value !== 'string') return malformed('approve', userId, { value: typeof action.value });
    const approval = await authorised({ client, userId, approvalId: action.value, channel: body.channel?.id, action: 'approve' });
    if (!approval) return;
    if (approval.state !== 'pending') {
      // decided already (the usual double click): no transaction needed to know it loses
      const refusal = approval.state === 'expired' ? 'expired' : 'already-decided';
      metrics.slackActions.inc({ action: 'approve', result: refusal });
      await store.audit({ actor: userId, action: 'approval.approved', subjectId: approval.id, outcome: refusal, detail: { state: approval.state, decidedBy: approval.decidedBy } });
      return tell(client, body.channel?.id ?? approval.channel, userId, refusalText(refusal, approval));
    }
    const result = await store.decide(approval.id, { state: 'approved', by: userId }, deps.now());
    metrics.slackActions.inc({ action: 'approve', result: result.ok ? 'ok' : result.refusal });
    if (result.ok) return decided(result.approval);
    await tell(client, body.channel?.id ?? approval.channel, userId, refusalText(result.refusal, result.approval));
  });

  app.action<BlockButtonAction>(actionIds.reject, async ({ ack, body, action, client }: SlackActionMiddlewareArgs<BlockButtonAction> & AllMiddlewareArgs) => {
    await ack();
    const userId = body.user?.id;
    if (!userId || typeof action.value !== 'string' || !body.trigger_id) return malformed('reject', userId, { value: typeof action.value });
    const approval = await authorised({ client, userId, approvalId: action.value, channel: body.channel?.id, action: 'reject' });
    if (!approval) return;
    if (approval.state !== 'pending' || approval.expiresAt.getTime() <= deps.now().getTime()) {
      metrics.slackActions.inc({ action: 'reject', result: approval.state === 'pending' || approval.state === 'expired' ? 'expired' : 'already-decided' });
      await store.audit({ actor: userId, action: 'approval.rejected', subjectId: approval.id, outcome: approval.state === 'pending' ? 'expired' : approval.state === 'expired' ? 'expired' : 'already-decided' });
      return tell(client, body.channel?.id ?? approval.channel, userId, refusalText(approval.state === 'pending' || approval.state === 'expired' ? 'expired' : 'already-decided', approval));
    }
    // trigger_id is valid for 3 s after the click: open the modal straight away
    await client.views.open({ trigger_id: body.trigger_id, view: rejectModal(approval) });
  });

  app.view(rejectModalId, async ({ ack, body, view, client }) => {
    const reason = view.state.values[reasonBlockId]?.[reasonActionId]?.value?.trim() ?? '';
    if (!reason) {
      await ack({ response_action: 'errors', errors: { [reasonBlockId]: 'Say why, so the team knows what to fix' } });
      return;
    }
    await ack();
    await afterAcks();
    const userId = body.user.id;
    const approval = await authorised({ client, userId, approvalId: view.private_metadata || undefined, channel: undefined, action: 'reject' });
    if (!approval) return;
    const result = await store.decide(approval.id, { state: 'rejected', by: userId, reason }, deps.now());
    metrics.slackActions.inc({ action: 'reject', result: result.ok ? 'ok' : result.refusal });
    if (result.ok) return decided(result.approval);
    await tell(client, approval.channel, userId, refusalText(result.refusal, result.approval));
  });

  app.action<BlockButtonAction>(actionIds.rollback, async ({ ack, body, action, client }: SlackActionMiddlewareArgs<BlockButtonAction> & AllMiddlewareArgs) => {
    await ack();
    await afterAcks();
    const userId = body.user?.id;
    const ids = typeof action.value === 'string' ? parseRollbackValue(action.value) : undefined;
    if (!userId || !ids) return malformed('rollback', userId, { value: typeof action.value });
    const channel = body.channel?.id;
    const from = await store.getDeployment(ids.fromId);
    if (!from) {
      await store.audit({ actor: userId, action: 'rollback.requested', subjectId: ids.fromId, outcome: 'not-found' });
      return tell(client, channel, userId, 'This deployment is not known to shipgate.');
    }
    const policy = environmentPolicy(deps.config(), from.environment);
    const access = mayAct(policy, await deps.directory.actor(userId, policy), 'rollback');
    if (!access.allowed) {
      metrics.slackActions.inc({ action: 'rollback', result: 'denied' });
      await store.audit({ actor: userId, action: 'access.denied', subjectId: from.id, outcome: access.why, detail: { action: 'rollback', environment: from.environment } });
      return tell(client, channel ?? from.channel, userId, `You cannot roll back *${escapeText(from.service)}* in *${escapeText(from.environment)}*: ${deniedText[access.why]}.`);
    }
    const plan = planRollback(await store.history(from.service, from.environment), from.id);
    const stale = plan.ok && plan.to.id !== ids.toId;
    if (!plan.ok || stale) {
      const why = !plan.ok
        ? {
            'already-rolled-back': `it was already rolled back by ${who(from.rollbackBy)}`,
            'not-current': 'a newer deployment has gone out since; roll back from its message',
            'no-target': 'there is no earlier good deployment to go back to',
            'no-rollback-spec': 'this deployment did not say how to roll it back',
            'not-deployed': 'this deployment did not go live',
          }[plan.refusal]
        : `the last good version is now \`${escapeText(plan.to.version)}\`, not the one the button named; the message has been refreshed`;
      metrics.slackActions.inc({ action: 'rollback', result: plan.ok ? 'stale' : plan.refusal });
      await store.audit({ actor: userId, action: 'rollback.requested', subjectId: from.id, outcome: plan.ok ? 'stale' : plan.refusal });
      if (stale) {
        await store.db.query("INSERT INTO outbox (kind, subject_id) VALUES ('slack.deployment', $1)", [from.id]);
        deps.onWork();
      }
      return tell(client, channel ?? from.channel, userId, `Nothing was rolled back: ${why}.`);
    }
    const claimed = await store.requestRollback(from.id, plan.to.id, userId, deps.now());
    metrics.slackActions.inc({ action: 'rollback', result: claimed ? 'ok' : 'already-rolled-back' });
    if (!claimed) {
      const now = await store.getDeployment(from.id);
      return tell(client, channel ?? from.channel, userId, `Nothing was rolled back: ${who(now?.rollbackBy ?? null)} already asked for this rollback.`);
    }
    deps.onWork();
  });

  /** The environments `userId` may see: those whose channel they are in, or whose approvers they are among. */
  async function visibleEnvironments(userId: string): Promise<Set<string>> {
    const config = deps.config();
    const visible = new Set<string>();
    for (const name of environmentNames(config)) {
      const policy = environmentPolicy(config, name)!;
      if (mayAct(policy, await deps.directory.actor(userId, policy), 'reject').allowed || (await deps.directory.inChannel(policy.channel, userId))) visible.add(name);
    }
    return visible;
  }

  app.command('/shipgate', async ({ ack, command, respond }) => {
    await ack();
    const [sub, service] = command.text.trim().split(/\s+/);
    if (sub === 'status' && service) {
      const [deployments, pending, visible] = await Promise.all([store.latestByEnvironment(service), store.pendingApprovals(service), visibleEnvironments(command.user_id)]);
      const hidden = new Set([...deployments, ...pending].map((r) => r.environment).filter((e) => !visible.has(e))).size;
      const shown = statusMessage(
        service,
        deployments.filter((d) => visible.has(d.environment)),
        pending.filter((a) => visible.has(a.environment)),
        hidden,
      );
      await respond({ response_type: 'ephemeral', ...shown });
      return;
    }
    await respond({ response_type: 'ephemeral', text: 'Usage: `/shipgate status <service>` — what version of <service> runs in each environment, and what waits for approval.' });
  });
}
