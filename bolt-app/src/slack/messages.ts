// Block Kit messages, as pure functions of the records: the approval request (Approve / Reject),
// its decided form (who, when, outcome), the deployment with its Rollback button (a confirm
// dialog that names the version it goes back to), the reject-reason modal and the status reply.
import type { types } from '@slack/bolt';
import type { Approval, Deployment } from '../approvals/model.js';
import { isUserGroupId } from '../approvals/access.js';

type KnownBlock = types.KnownBlock;
type View = types.View;

export const actionIds = { approve: 'shipgate_approve', reject: 'shipgate_reject', rollback: 'shipgate_rollback' } as const;
export const rejectModalId = 'shipgate_reject_reason';
export const reasonBlockId = 'reason';
export const reasonActionId = 'reason_input';

export interface SlackMessage {
  text: string;
  blocks: KnownBlock[];
}

/**
 * Escapes text for Slack (its three control characters), wherever it goes: mrkdwn, plain_text and
 * the top-level `text` that notifications show. Unescaped, `<!channel>` in a version or a service
 * name would notify a whole channel, and `<https://x|y>` would be a link.
 */
export function escapeText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Escaped text cut to `max` characters without splitting an entity (Slack counts the escaped form). */
export function escapedUpTo(text: string, max: number): string {
  let out = escapeText(text);
  for (let keep = text.length; out.length > max && keep > 0; keep -= 1) out = escapeText(text.slice(0, keep - 1));
  return out;
}

/** A link to a URL the API already checked (http/https, no `|`, `<`, `>` or spaces); `&` is escaped as Slack asks. */
function link(url: string, label: string): string {
  return `<${escapeText(url)}|${escapeText(label)}>`;
}

/** A timestamp Slack renders in each reader's own time zone. */
export function slackDate(at: Date): string {
  return `<!date^${Math.floor(at.getTime() / 1000)}^{date_short_pretty} {time}|${at.toISOString()}>`;
}

export function mention(id: string): string {
  return isUserGroupId(id) ? `<!subteam^${id}>` : `<@${id}>`;
}

function who(id: string | null): string {
  if (!id) return 'someone';
  return /^[UW][A-Z0-9]+$/.test(id) ? `<@${id}>` : escapeText(id);
}

const stateLine: Record<Approval['state'], string> = {
  pending: ':hourglass_flowing_sand: Waiting for approval',
  approved: ':white_check_mark: Approved',
  rejected: ':no_entry: Rejected',
  expired: ':alarm_clock: Expired',
};

export function approvalMessage(approval: Approval, approvers: readonly string[]): SlackMessage {
  const title = `*${escapeText(approval.service)}* \`${escapeText(approval.version)}\` to *${escapeText(approval.environment)}*`;
  const fields = [
    { type: 'mrkdwn' as const, text: `*Requested by*\n${who(approval.requester)}` },
    { type: 'mrkdwn' as const, text: `*${approval.state === 'pending' ? 'Expires' : 'Requested'}*\n${slackDate(approval.state === 'pending' ? approval.expiresAt : approval.createdAt)}` },
  ];
  if (approval.digest) fields.push({ type: 'mrkdwn', text: `*Digest*\n\`${escapeText(approval.digest)}\`` });
  const blocks: KnownBlock[] = [{ type: 'section', text: { type: 'mrkdwn', text: `:rocket: Deploy approval: ${title}` }, fields }];
  if (approval.summary) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: escapeText(approval.summary).slice(0, 2900) } });
  if (approval.state === 'pending') {
    blocks.push(
      { type: 'context', elements: [{ type: 'mrkdwn', text: `Approvers: ${approvers.map(mention).join(' ')}` }] },
      {
        type: 'actions',
        block_id: `approval:${approval.id}`,
        elements: [
          { type: 'button', action_id: actionIds.approve, text: { type: 'plain_text', text: 'Approve' }, style: 'primary', value: approval.id },
          { type: 'button', action_id: actionIds.reject, text: { type: 'plain_text', text: 'Reject' }, style: 'danger', value: approval.id },
        ],
      },
    );
  } else {
    const by = approval.state === 'expired' ? '' : ` by ${who(approval.decidedBy)}`;
    const when = approval.decidedAt ? ` at ${slackDate(approval.decidedAt)}` : '';
    const reason = approval.reason ? `\n>${escapeText(approval.reason).replace(/\n/g, '\n>')}` : '';
    const expiredNote = approval.state === 'expired' ? ' — nobody decided in time; the pipeline was told no' : '';
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `${stateLine[approval.state]}${by}${when}${expiredNote}${reason}` } });
  }
  const text = escapeText(`${stateLine[approval.state].replace(/^:[a-z_]+: /, '')}: ${approval.service} ${approval.version} to ${approval.environment}`);
  return { text, blocks };
}

const outcomeLine: Record<Deployment['outcome'], string> = {
  succeeded: ':large_green_circle: Deployed',
  failed: ':red_circle: Deploy failed',
  'rolled-back': ':rewind: Rolled back by the pipeline',
};

/** The Rollback button's value: the deployment to undo and the one the confirm dialog named. */
export function rollbackValue(from: Deployment, to: Deployment): string {
  return `${from.id}>${to.id}`;
}

export function parseRollbackValue(value: string): { fromId: string; toId: string } | undefined {
  const m = /^(dep_[\w-]+)>(dep_[\w-]+)$/.exec(value);
  return m ? { fromId: m[1]!, toId: m[2]! } : undefined;
}

export function deploymentMessage(d: Deployment, target: Deployment | undefined): SlackMessage {
  const title = `*${escapeText(d.service)}* \`${escapeText(d.version)}\` in *${escapeText(d.environment)}*`;
  const restore = d.rollbackOf ? ' (rollback)' : '';
  const lines = [`${outcomeLine[d.outcome]}${restore}: ${title}`];
  // the pipeline's words (a failing check): text only, never a mention or a link
  if (d.reason) lines.push(`*Why:* ${escapedUpTo(d.reason, 2000)}`);
  const fields = [{ type: 'mrkdwn' as const, text: `*By*\n${who(d.deployer)}` }, { type: 'mrkdwn' as const, text: `*When*\n${slackDate(d.createdAt)}` }];
  if (d.digest) fields.push({ type: 'mrkdwn', text: `*Digest*\n\`${escapeText(d.digest)}\`` });
  if (d.url) fields.push({ type: 'mrkdwn', text: `*Link*\n${link(d.url, 'details')}` });
  if (d.reportUrl) fields.push({ type: 'mrkdwn', text: `*Report*\n${link(d.reportUrl, 'run report')}` });
  const blocks: KnownBlock[] = [{ type: 'section', text: { type: 'mrkdwn', text: lines.join('\n') }, fields }];
  if (d.rollbackState) {
    const state = d.rollbackState === 'requested' ? ':hourglass_flowing_sand: Rolling back' : d.rollbackState === 'succeeded' ? ':rewind: Rolled back' : ':x: Rollback failed';
    const when = d.rollbackAt ? ` at ${slackDate(d.rollbackAt)}` : '';
    const detail = d.rollbackDetail ? ` — ${escapeText(d.rollbackDetail)}` : '';
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `${state} by ${who(d.rollbackBy)}${when}${detail}` } });
  } else if (target && d.rollback) {
    blocks.push({
      type: 'actions',
      block_id: `deployment:${d.id}`,
      elements: [
        {
          type: 'button',
          action_id: actionIds.rollback,
          text: { type: 'plain_text', text: escapedUpTo(`Rollback to ${target.version}`, 75) },
          style: 'danger',
          value: rollbackValue(d, target),
          confirm: {
            title: { type: 'plain_text', text: 'Roll back?' },
            text: { type: 'mrkdwn', text: `Roll *${escapeText(d.service)}* in *${escapeText(d.environment)}* back from \`${escapeText(d.version)}\` to \`${escapeText(target.version)}\` (deployed ${slackDate(target.createdAt)})?` },
            confirm: { type: 'plain_text', text: escapedUpTo(`Roll back to ${target.version}`, 30) },
            deny: { type: 'plain_text', text: 'Cancel' },
            style: 'danger',
          },
        },
      ],
    });
  }
  const why = d.reason ? ` — ${d.reason}` : '';
  return { text: escapeText(`${outcomeLine[d.outcome].replace(/^:[a-z_]+: /, '')}: ${d.service} ${d.version} in ${d.environment}${why}`), blocks };
}

export function rejectModal(approval: Approval): View {
  return {
    type: 'modal',
    callback_id: rejectModalId,
    private_metadata: approval.id,
    title: { type: 'plain_text', text: 'Reject deploy' },
    submit: { type: 'plain_text', text: 'Reject' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `Reject *${escapeText(approval.service)}* \`${escapeText(approval.version)}\` to *${escapeText(approval.environment)}*?` } },
      { type: 'input', block_id: reasonBlockId, label: { type: 'plain_text', text: 'Reason' }, element: { type: 'plain_text_input', action_id: reasonActionId, multiline: true, max_length: 1000 } },
    ],
  };
}

/** `/shipgate status`: what runs where and what waits, of the environments the asker may see (`hidden`: how many others have something). */
export function statusMessage(service: string, deployments: readonly Deployment[], pending: readonly Approval[], hidden = 0): SlackMessage {
  const note = hidden ? `${hidden} ${hidden === 1 ? 'environment is' : 'environments are'} not shown: you are not in their channel or among their approvers.` : '';
  if (!deployments.length && !pending.length) {
    const text = `Nothing is known about *${escapeText(service)}* yet: no deployments, no pending approvals.`;
    return { text: escapeText(`Nothing is known about ${service}.`), blocks: [{ type: 'section', text: { type: 'mrkdwn', text: hidden ? `Nothing you may see of *${escapeText(service)}*. ${note}` : text } }] };
  }
  const rows = deployments.map((d) => `• *${escapeText(d.environment)}*: \`${escapeText(d.version)}\`${d.rollbackState === 'succeeded' ? ' (rolled back)' : ''} — ${outcomeLine[d.outcome].replace(/^:[a-z_]+: /, '').toLowerCase()} ${slackDate(d.createdAt)} by ${who(d.deployer)}`);
  const waits = pending.map((a) => `• \`${escapeText(a.version)}\` to *${escapeText(a.environment)}* waiting for approval (expires ${slackDate(a.expiresAt)})`);
  const blocks: KnownBlock[] = [{ type: 'section', text: { type: 'mrkdwn', text: `*${escapeText(service)}* runs:\n${rows.join('\n') || '• nowhere yet'}` } }];
  if (waits.length) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `*Pending:*\n${waits.join('\n')}` } });
  if (note) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: note }] });
  return { text: escapeText(`${service}: ${deployments.map((d) => `${d.environment} ${d.version}`).join(', ')}`), blocks };
}
