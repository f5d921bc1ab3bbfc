// actions/image: image tags and labels (as docker/metadata-action), build and push, promote or
// roll back a tag by registry API, read an environment's history.
import { forwardTo, type ActionSpec } from './door.js';

export default {
  name: 'image',
  inputs: {
    command: 'string',
    image: 'string',
    tags: 'string',
    flavor: 'string',
    labels: 'string',
    context: 'string',
    file: 'string',
    'build-args': 'string',
    target: 'string',
    platforms: 'string',
    'cache-from': 'string',
    'cache-to': 'string',
    'source-image': 'string',
    builder: 'string',
    tag: 'string',
    environment: 'string',
    repository: 'string',
    to: 'string',
    force: 'boolean',
    insecure: 'boolean',
    username: 'string',
    password: 'secret',
    'ecr-login': 'boolean',
    'aws-region': 'string',
    'request-timeout': 'string',
  },
  workingDirectoryInput: 'working-directory',
  step: forwardTo(async () => (await import('@shipgate/image')).imageStep),
} satisfies ActionSpec;
