// Slack's error strings (chat.postMessage's `{ ok: false, error }`, an incoming webhook's plain-text
// body) turned into something a person can act on. Pure: a table test covers it.
import { ExitCode, ShipgateError } from '@shipgate/protocol';

const hints: Record<string, string> = {
  channel_not_found: 'check the channel input (an id like C0123456789 is safest) and that the bot is in that channel (/invite @shipgate)',
  not_in_channel: 'invite the bot to the channel (/invite @shipgate), or give it the chat:write.public scope',
  is_archived: 'the channel is archived: unarchive it or post elsewhere',
  channel_is_archived: 'the webhook\'s channel is archived: unarchive it or make a new webhook',
  invalid_auth: 'SLACK_BOT_TOKEN (or the token input) is not a valid token: copy the Bot User OAuth Token (xoxb-…) again',
  not_authed: 'set SLACK_BOT_TOKEN (or the token input) to the Bot User OAuth Token (xoxb-…)',
  account_inactive: 'the token belongs to a deleted user or an uninstalled app: reinstall the app and use its new token',
  token_revoked: 'the token was revoked: reinstall the app and store its new token',
  missing_scope: 'add the chat:write scope to the app and reinstall it',
  msg_too_long: 'shorten the text (Slack truncates over 40,000 characters and rejects longer)',
  no_text: 'give text (also used as the notification fallback when blocks are set)',
  invalid_blocks: 'check the blocks against Block Kit (app.slack.com/block-kit-builder)',
  invalid_blocks_format: 'blocks must be a JSON array of Block Kit blocks',
  invalid_payload: 'the webhook could not read the message: check blocks is valid Block Kit JSON',
  invalid_token: 'the webhook URL is not valid any more: create a new incoming webhook',
  no_service: 'the webhook was removed or disabled: create a new incoming webhook',
  no_service_id: 'the webhook URL is incomplete: copy it again from the Slack app settings',
  no_team: 'the Slack workspace of this webhook is gone: create a new incoming webhook',
  team_disabled: 'the Slack workspace of this webhook is disabled',
  action_prohibited: 'a workspace admin restricted posting to that channel',
  posting_to_general_channel_denied: 'only admins may post to #general: pick another channel',
  ratelimited: 'Slack rate-limited the app: post less often',
};

/** The ShipgateError for a Slack error string. `via` says which API answered. */
export function slackError(error: string, via: 'chat.postMessage' | 'webhook'): ShipgateError {
  const code = error.trim() || 'unknown_error';
  return new ShipgateError(`slack-notify.${code}`, `Slack ${via} failed: ${code}`, {
    exitCode: ExitCode.external,
    hint: hints[code] ?? 'see https://api.slack.com/methods/chat.postMessage#errors',
  });
}
