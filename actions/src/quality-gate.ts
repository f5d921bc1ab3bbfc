// actions/quality-gate: waits for a SonarQube / SonarCloud quality gate (running the scanner), or
// evaluates a local gate from coverage, ESLint, Jest and jscpd reports.
import { forwardTo, type ActionSpec } from './door.js';

export default {
  name: 'quality-gate',
  inputs: {
    mode: 'string',
    local: 'json',
    'host-url': 'string',
    token: 'secret',
    properties: 'json',
    'project-properties': 'string',
    'ci-parameters': 'boolean',
    scanner: 'json',
    'report-task': 'string',
    timeout: 'string',
    'poll-interval': 'string',
  },
  // the step reads the token only from the environment (never from `with:`), as SONAR_TOKEN
  env: { token: 'SONAR_TOKEN' },
  workingDirectoryInput: 'working-directory',
  step: forwardTo(async () => (await import('@shipgate/quality-gate')).qualityGateStep),
} satisfies ActionSpec;
