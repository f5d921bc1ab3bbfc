// Approve: ack, check the clicker may approve, then one conditional transition. A decided
// approval (the usual double click) loses without a transaction.
import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { afterAcks, type ListenerContext } from './context.js';
import { refusalText } from './replies.js';

export function approveClicked(ctx: ListenerContext) {
  const { store, metrics } = ctx;
  return async ({ ack, body, action, client }: SlackActionMiddlewareArgs<BlockButtonAction> & AllMiddlewareArgs): Promise<void> => {
    await ack();
    await afterAcks();
    const userId = body.user?.id;
    if (!userId || typeof action.value !== 'string') return ctx.malformed('approve', userId, { value: typeof action.value });
    const approval = await ctx.authorised({ client, userId, approvalId: action.value, channel: body.channel?.id, action: 'approve' });
    if (!approval) return;
    if (approval.state !== 'pending') {
      // decided already (the usual double click): no transaction needed to know it loses
      const refusal = approval.state === 'expired' ? 'expired' : 'already-decided';
      metrics.slackActions.inc({ action: 'approve', result: refusal });
      await store.audit.record({ actor: userId, action: 'approval.approved', subjectId: approval.id, outcome: refusal, detail: { state: approval.state, decidedBy: approval.decidedBy } });
      return ctx.tell(client, body.channel?.id ?? approval.channel, userId, refusalText(refusal, approval));
    }
    const result = await store.approvals.decide(approval.id, { state: 'approved', by: userId }, ctx.deps.now());
    metrics.slackActions.inc({ action: 'approve', result: result.ok ? 'ok' : result.refusal });
    if (result.ok) return ctx.decided(result.approval);
    await ctx.tell(client, body.channel?.id ?? approval.channel, userId, refusalText(result.refusal, result.approval));
  };
}
