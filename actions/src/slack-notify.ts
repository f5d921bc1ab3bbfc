// actions/slack-notify: posts a message to Slack (incoming webhook or chat.postMessage).
import { forwardTo, type ActionSpec } from './door.js';

export default {
  name: 'slack-notify',
  inputs: { text: 'string', blocks: 'string', 'webhook-url': 'secret', channel: 'string', 'thread-ts': 'string', token: 'secret', 'api-url': 'string' },
  step: forwardTo(async () => (await import('@shipgate/slack')).slackNotifyStep),
} satisfies ActionSpec;
