// actions/verify: judges a fresh deployment on Prometheus checks over a bake time and rolls it
// back when it fails — the CLI's verify step, with its CodeDeploy, image and CodePipeline rollbacks.
import type { StepDefinition } from '@shipgate/protocol';
import { forwardTo, type ActionSpec } from './door.js';

export default {
  name: 'verify',
  inputs: {
    prometheus: 'string',
    checks: 'json',
    interval: 'string',
    count: 'number',
    'failure-limit': 'number',
    'inconclusive-limit': 'number',
    'initial-delay': 'string',
    'query-timeout': 'string',
    'allow-inconclusive': 'boolean',
    version: 'string',
    environment: 'string',
    service: 'string',
    'baseline-version': 'string',
    variables: 'json',
    'on-failure': 'json',
    'prometheus-token': 'secret',
    'prometheus-username': 'string',
    'prometheus-password': 'secret',
  },
  env: { 'prometheus-token': 'PROMETHEUS_TOKEN', 'prometheus-username': 'PROMETHEUS_USERNAME', 'prometheus-password': 'PROMETHEUS_PASSWORD' },
  step: forwardTo(async () => (await import('@shipgate/cli')).defaultRegistry().get('verify') as StepDefinition),
} satisfies ActionSpec;
