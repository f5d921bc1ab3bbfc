// The Slack listeners, registered from one table: Approve, Reject (a modal asks why), Rollback (its
// button carries a confirm dialog), and `/shipgate status <service>`. Each one (in listeners/)
// acks first — Slack wants an answer within 3 s — then decides with the pure access rules and the
// store's one-shot transitions. A refusal is an ephemeral message to the clicker only, and every
// attempt is audited.
import type { App, BlockButtonAction, ViewSubmitAction } from '@slack/bolt';
import { approveClicked } from './listeners/approve.js';
import { ListenerContext, type HandlerDeps } from './listeners/context.js';
import { rejectClicked, rejectionSubmitted } from './listeners/reject.js';
import { rollbackClicked } from './listeners/rollback.js';
import { shipgateCommand } from './listeners/status.js';
import { actionIds, rejectModalId } from './messages.js';

export type { HandlerDeps } from './listeners/context.js';

/** Button action ids → their listener. */
const buttons = {
  [actionIds.approve]: approveClicked,
  [actionIds.reject]: rejectClicked,
  [actionIds.rollback]: rollbackClicked,
};

export function registerHandlers(app: App, deps: HandlerDeps): void {
  const ctx = new ListenerContext(deps);
  for (const [actionId, listener] of Object.entries(buttons)) app.action<BlockButtonAction>(actionId, listener(ctx));
  app.view<ViewSubmitAction>(rejectModalId, rejectionSubmitted(ctx));
  app.command('/shipgate', shipgateCommand(ctx));
}
