// actions/codepipeline: starts and follows an AWS CodePipeline execution, answers a manual
// approval, or rolls a stage back.
import { forwardTo, type ActionSpec } from './door.js';

export default {
  name: 'codepipeline',
  inputs: {
    pipeline: 'string',
    operation: 'string',
    stage: 'string',
    action: 'string',
    summary: 'string',
    target: 'string',
    variables: 'json',
    'client-request-token': 'string',
    wait: 'boolean',
    abandon: 'boolean',
    region: 'string',
    endpoint: 'string',
    timeout: 'string',
    'poll-interval': 'string',
  },
  step: forwardTo(async () => (await import('@shipgate/aws')).codepipelineStep),
} satisfies ActionSpec;
