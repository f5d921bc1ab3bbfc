// `/shipgate dora <service>`: an ephemeral reply with the service's DORA metrics per environment
// over the app's window — only the environments the asker may see, as `/shipgate status` does.
import type { RespondFn } from '@slack/bolt';
import { formatDoraTable } from '@shipgate/core';
import { doraReport } from '../../dora/history.js';
import { escapeText } from '../messages.js';
import type { ListenerContext } from './context.js';

/** Slack's limit for a section's text is 3000 characters; keep well inside it. */
const maxTableChars = 2800;

export async function answerDora(ctx: ListenerContext, service: string, visible: Set<string>, respond: RespondFn): Promise<void> {
  const report = await doraReport(ctx.store, { now: ctx.deps.now(), windowMs: ctx.deps.doraWindowMs, service });
  const shown = { ...report, groups: report.groups.filter((g) => visible.has(g.environment)) };
  const hidden = report.groups.length - shown.groups.length;
  const title = `:bar_chart: *DORA metrics of ${escapeText(service)}*, last ${formatDays(report.windowDays)}`;
  const note = hidden ? `\n_${hidden} environment${hidden === 1 ? '' : 's'} you are not in the channel of (or an approver for) ${hidden === 1 ? 'is' : 'are'} not shown._` : '';
  if (shown.groups.length === 0) {
    const none = hidden ? 'No deployments in the window in an environment you may see.' : 'No deployments of this service in the window.';
    await respond({ response_type: 'ephemeral', text: `No deployments of ${service} in the last ${formatDays(report.windowDays)}${hidden ? ' that you may see' : ''}.`, blocks: [{ type: 'section', text: { type: 'mrkdwn', text: `${title}\n${none}${note}` } }] });
    return;
  }
  let table = formatDoraTable(shown).join('\n');
  if (table.length > maxTableChars) table = `${table.slice(0, maxTableChars)}\n…`;
  await respond({
    response_type: 'ephemeral',
    text: `DORA metrics of ${service}`,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: title } },
      // a code block keeps the columns aligned; escaped, since service names come from pipelines
      { type: 'section', text: { type: 'mrkdwn', text: `\`\`\`${escapeText(table)}\`\`\`` } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: `Lead time: commit → deploy success. Change failure: failed, rolled back, or fixed forward within ${Math.round(report.fixForwardSeconds / 60)} min. Time to restore: failure → next good deployment.${note}` }] },
    ],
  });
}

const formatDays = (days: number) => (days === 1 ? 'day' : Number.isInteger(days) ? `${days} days` : `${days.toFixed(1)} days`);
