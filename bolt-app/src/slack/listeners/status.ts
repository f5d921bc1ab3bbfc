// `/shipgate status <service>`: an ephemeral reply with what runs where and what waits, for the
// environments the asker may see (their channel's members, or its approvers). `/shipgate dora
// <service>` is answered in dora.ts under the same visibility.
import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import { mayAct } from '../../approvals/access.js';
import { environmentNames, environmentPolicy } from '../../config.js';
import { statusMessage } from '../messages.js';
import { answerDora } from './dora.js';
import type { ListenerContext } from './context.js';

const usage = 'Usage: `/shipgate status <service>` — what version of <service> runs in each environment, and what waits for approval. `/shipgate dora <service>` — its deployment frequency, lead time, change failure rate and time to restore.';

export function shipgateCommand(ctx: ListenerContext) {
  return async ({ ack, command, respond }: SlackCommandMiddlewareArgs & AllMiddlewareArgs): Promise<void> => {
    await ack();
    const [sub, service] = command.text.trim().split(/\s+/);
    if ((sub !== 'status' && sub !== 'dora') || !service) {
      await respond({ response_type: 'ephemeral', text: usage });
      return;
    }
    if (sub === 'dora') return answerDora(ctx, service, await visibleEnvironments(ctx, command.user_id), respond);
    const { store } = ctx;
    const [deployments, pending, visible] = await Promise.all([store.deployments.latestByEnvironment(service), store.approvals.pending(service), visibleEnvironments(ctx, command.user_id)]);
    const hidden = new Set([...deployments, ...pending].map((r) => r.environment).filter((e) => !visible.has(e))).size;
    const shown = statusMessage(
      service,
      deployments.filter((d) => visible.has(d.environment)),
      pending.filter((a) => visible.has(a.environment)),
      hidden,
    );
    await respond({ response_type: 'ephemeral', ...shown });
  };
}

/** The environments `userId` may see: those whose channel they are in, or whose approvers they are among. */
async function visibleEnvironments(ctx: ListenerContext, userId: string): Promise<Set<string>> {
  const config = ctx.deps.config();
  const visible = new Set<string>();
  for (const name of environmentNames(config)) {
    const policy = environmentPolicy(config, name)!;
    if (mayAct(policy, await ctx.deps.directory.actor(userId, policy), 'reject').allowed || (await ctx.deps.directory.inChannel(policy.channel, userId))) visible.add(name);
  }
  return visible;
}
