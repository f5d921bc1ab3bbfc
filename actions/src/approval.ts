// actions/approval: asks the shipgate Slack app for an approval and waits for the decision.
import { forwardTo, type ActionSpec } from './door.js';

export default {
  name: 'approval',
  inputs: {
    service: 'string',
    environment: 'string',
    version: 'string',
    digest: 'string',
    summary: 'string',
    requester: 'string',
    'expires-in': 'string',
    timeout: 'string',
    'idempotency-key': 'string',
    backend: 'json',
    'poll-seconds': 'number',
    url: 'string',
    token: 'secret',
  },
  step: forwardTo(async () => (await import('@shipgate/slack')).approvalStep),
} satisfies ActionSpec;
