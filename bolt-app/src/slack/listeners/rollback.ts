// Rollback: the button (behind Slack's confirm dialog) names the deployment and the target it
// showed. The target is planned again from the history now; a button whose target went stale is
// refused and its message redrawn. The claim is one conditional UPDATE, so it runs once.
import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { mayAct } from '../../approvals/access.js';
import type { Deployment } from '../../approvals/model.js';
import { planRollback } from '../../approvals/rollback.js';
import { environmentPolicy } from '../../config.js';
import { escapeText, parseRollbackValue } from '../messages.js';
import { afterAcks, type ListenerContext, type SlackClient } from './context.js';
import { deniedText, rollbackRefusalText, who } from './replies.js';

interface RollbackClick {
  client: SlackClient;
  userId: string;
  channel: string | undefined;
  from: Deployment;
  /** The target the button named. */
  toId: string;
}

export function rollbackClicked(ctx: ListenerContext) {
  return async ({ ack, body, action, client }: SlackActionMiddlewareArgs<BlockButtonAction> & AllMiddlewareArgs): Promise<void> => {
    await ack();
    await afterAcks();
    const userId = body.user?.id;
    const ids = typeof action.value === 'string' ? parseRollbackValue(action.value) : undefined;
    if (!userId || !ids) return ctx.malformed('rollback', userId, { value: typeof action.value });
    const channel = body.channel?.id;
    const from = await ctx.store.deployments.get(ids.fromId);
    if (!from) {
      await ctx.store.audit.record({ actor: userId, action: 'rollback.requested', subjectId: ids.fromId, outcome: 'not-found' });
      return ctx.tell(client, channel, userId, 'This deployment is not known to shipgate.');
    }
    const click: RollbackClick = { client, userId, channel, from, toId: ids.toId };
    if (await mayRollBack(ctx, click)) await claimRollback(ctx, click);
  };
}

/** Whether the clicker is one of the environment's approvers; tells them if not. */
async function mayRollBack(ctx: ListenerContext, { client, userId, channel, from }: RollbackClick): Promise<boolean> {
  const policy = environmentPolicy(ctx.deps.config(), from.environment);
  const access = mayAct(policy, await ctx.deps.directory.actor(userId, policy), 'rollback');
  if (access.allowed) return true;
  ctx.metrics.slackActions.inc({ action: 'rollback', result: 'denied' });
  await ctx.store.audit.record({ actor: userId, action: 'access.denied', subjectId: from.id, outcome: access.why, detail: { action: 'rollback', environment: from.environment } });
  await ctx.tell(client, channel ?? from.channel, userId, `You cannot roll back *${escapeText(from.service)}* in *${escapeText(from.environment)}*: ${deniedText[access.why]}.`);
  return false;
}

/** Plans the rollback from the history now and claims it once, or says why nothing happened. */
async function claimRollback(ctx: ListenerContext, { client, userId, channel, from, toId }: RollbackClick): Promise<void> {
  const { store, metrics } = ctx;
  const plan = planRollback(await store.deployments.history(from.service, from.environment), from.id);
  const stale = plan.ok && plan.to.id !== toId;
  if (!plan.ok || stale) {
    const why = !plan.ok ? rollbackRefusalText(plan.refusal, from) : `the last good version is now \`${escapeText(plan.to.version)}\`, not the one the button named; the message has been refreshed`;
    metrics.slackActions.inc({ action: 'rollback', result: plan.ok ? 'stale' : plan.refusal });
    await store.audit.record({ actor: userId, action: 'rollback.requested', subjectId: from.id, outcome: plan.ok ? 'stale' : plan.refusal });
    if (stale) {
      await store.outbox.add([{ kind: 'slack.deployment', subjectId: from.id }]);
      ctx.deps.onWork();
    }
    return ctx.tell(client, channel ?? from.channel, userId, `Nothing was rolled back: ${why}.`);
  }
  const claimed = await store.rollbacks.request(from.id, plan.to.id, userId, ctx.deps.now());
  metrics.slackActions.inc({ action: 'rollback', result: claimed ? 'ok' : 'already-rolled-back' });
  if (!claimed) {
    const now = await store.deployments.get(from.id);
    return ctx.tell(client, channel ?? from.channel, userId, `Nothing was rolled back: ${who(now?.rollbackBy ?? null)} already asked for this rollback.`);
  }
  ctx.deps.onWork();
}
