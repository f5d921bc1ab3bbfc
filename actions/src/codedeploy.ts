// actions/codedeploy: deploys with AWS CodeDeploy (an S3 revision to EC2 / on-premises, or ECS
// blue/green with a new task definition revision), or redeploys the last good revision (rollback);
// follows it to the end and records it.
import { defaultRegistry } from '@shipgate/cli';
import { type StepDefinition } from '@shipgate/protocol';
import { forwardTo, type ActionSpec } from './door.js';

export default {
  name: 'codedeploy',
  inputs: {
    operation: 'string',
    application: 'string',
    'deployment-group': 'string',
    region: 'string',
    endpoint: 'string',
    bucket: 'string',
    key: 'string',
    'bundle-type': 'string',
    'object-version': 'string',
    etag: 'string',
    'task-definition': 'string',
    container: 'string',
    'container-port': 'number',
    image: 'string',
    service: 'string',
    environment: 'string',
    version: 'string',
    digest: 'string',
    description: 'string',
    'deployment-config': 'string',
    timeout: 'string',
    'poll-interval': 'string',
    'rollback-timeout': 'string',
  },
  step: forwardTo(async () => defaultRegistry().get('codedeploy') as StepDefinition),
} satisfies ActionSpec;
