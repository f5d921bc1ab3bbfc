// The default backends, wired from the environment (JENKINS_USER / JENKINS_API_TOKEN / JENKINS_URL,
// GITHUB_TOKEN / GITHUB_API_URL, the AWS SDK's own credential chain). A waiting `shipgate` run
// needs no call: it polls GET /api/approvals/:id and sees the decision.
import { codePipelineDecisionBackend, type CodePipelineClientFactory } from './codepipeline.js';
import { githubDecisionBackend } from './github.js';
import { jenkinsDecisionBackend, jenkinsRollbackBackend } from './jenkins.js';
import type { DecisionBackends, RollbackBackends } from './types.js';

export interface BackendEnvironment {
  env?: NodeJS.ProcessEnv;
  fetch?: typeof fetch;
  codePipelineClient?: CodePipelineClientFactory;
}

export function defaultDecisionBackends(options: BackendEnvironment = {}): DecisionBackends {
  const env = options.env ?? process.env;
  const jenkins = { user: env.JENKINS_USER, apiToken: env.JENKINS_API_TOKEN, rootUrl: env.JENKINS_URL, ...(options.fetch ? { fetch: options.fetch } : {}) };
  return {
    shipgate: async () => ({ detail: 'the waiting shipgate run reads the decision from the API' }),
    jenkins: jenkinsDecisionBackend(jenkins),
    github: githubDecisionBackend({ token: env.GITHUB_TOKEN, apiUrl: env.GITHUB_API_URL, ...(options.fetch ? { fetch: options.fetch } : {}) }),
    codepipeline: codePipelineDecisionBackend(options.codePipelineClient),
  };
}

/** Rollback backends this package carries itself; image and codedeploy come from @shipgate/image and @shipgate/aws (see rollback.ts). */
export function defaultRollbackBackends(options: BackendEnvironment = {}): RollbackBackends {
  const env = options.env ?? process.env;
  return {
    jenkins: jenkinsRollbackBackend({ user: env.JENKINS_USER, apiToken: env.JENKINS_API_TOKEN, rootUrl: env.JENKINS_URL, ...(options.fetch ? { fetch: options.fetch } : {}) }),
  };
}

export * from './types.js';
export { jenkinsDecisionBackend, jenkinsRollbackBackend, jenkinsRoot } from './jenkins.js';
export { githubDecisionBackend } from './github.js';
export { codePipelineDecisionBackend, defaultCodePipelineClient } from './codepipeline.js';
