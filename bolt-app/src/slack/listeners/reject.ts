// Reject: the button opens a modal that asks why (the reason is required); its submission is the
// decision. Access is checked at both steps, as the config may change in between.
import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs, SlackViewMiddlewareArgs, ViewSubmitAction } from '@slack/bolt';
import { reasonActionId, reasonBlockId, rejectModal } from '../messages.js';
import { afterAcks, type ListenerContext } from './context.js';
import { refusalText } from './replies.js';

export function rejectClicked(ctx: ListenerContext) {
  const { store, metrics } = ctx;
  return async ({ ack, body, action, client }: SlackActionMiddlewareArgs<BlockButtonAction> & AllMiddlewareArgs): Promise<void> => {
    await ack();
    const userId = body.user?.id;
    if (!userId || typeof action.value !== 'string' || !body.trigger_id) return ctx.malformed('reject', userId, { value: typeof action.value });
    const approval = await ctx.authorised({ client, userId, approvalId: action.value, channel: body.channel?.id, action: 'reject' });
    if (!approval) return;
    if (approval.state !== 'pending' || approval.expiresAt.getTime() <= ctx.deps.now().getTime()) {
      metrics.slackActions.inc({ action: 'reject', result: approval.state === 'pending' || approval.state === 'expired' ? 'expired' : 'already-decided' });
      await store.audit.record({ actor: userId, action: 'approval.rejected', subjectId: approval.id, outcome: approval.state === 'pending' ? 'expired' : approval.state === 'expired' ? 'expired' : 'already-decided' });
      return ctx.tell(client, body.channel?.id ?? approval.channel, userId, refusalText(approval.state === 'pending' || approval.state === 'expired' ? 'expired' : 'already-decided', approval));
    }
    // trigger_id is valid for 3 s after the click: open the modal straight away
    await client.views.open({ trigger_id: body.trigger_id, view: rejectModal(approval) });
  };
}

export function rejectionSubmitted(ctx: ListenerContext) {
  const { store, metrics } = ctx;
  return async ({ ack, body, view, client }: SlackViewMiddlewareArgs<ViewSubmitAction> & AllMiddlewareArgs): Promise<void> => {
    const reason = view.state.values[reasonBlockId]?.[reasonActionId]?.value?.trim() ?? '';
    if (!reason) {
      await ack({ response_action: 'errors', errors: { [reasonBlockId]: 'Say why, so the team knows what to fix' } });
      return;
    }
    await ack();
    await afterAcks();
    const userId = body.user.id;
    const approval = await ctx.authorised({ client, userId, approvalId: view.private_metadata || undefined, channel: undefined, action: 'reject' });
    if (!approval) return;
    const result = await store.approvals.decide(approval.id, { state: 'rejected', by: userId, reason }, ctx.deps.now());
    metrics.slackActions.inc({ action: 'reject', result: result.ok ? 'ok' : result.refusal });
    if (result.ok) return ctx.decided(result.approval);
    await ctx.tell(client, approval.channel, userId, refusalText(result.refusal, result.approval));
  };
}
