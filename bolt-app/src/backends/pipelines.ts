// Rollbacks carried out by shipgate's own steps (@shipgate/image, @shipgate/aws), so no decision is made twice:
// `image` re-points the environment's tag to the previous good digest by registry API (no pull,
// no push of layers) and records it in the image's history; `codedeploy` redeploys the deployment
// group's previous succeeded revision and follows it to the end.
import { isShipgateError } from '@shipgate/protocol';
import { parseEcrHost, parseImageReference, ecrLoginFor, rollbackImage } from '@shipgate/image';
import { rollbackCodeDeploy, awsCircuitBreaker } from '@shipgate/aws';
import { trustedOrigins, untrustedRegistry } from './origins.js';
import { BackendError, type RollbackBackend, type RollbackBackends } from './types.js';

/** ShipgateError codes that another attempt cannot fix. */
const final = /^(image\.(no-history|not-in-history|no-rollback-target|bad-reference|immutable.*)|codedeploy\.(no-rollback-target|revision|unknown-.*|.*-not-found))$/;

function asBackendError(error: unknown): never {
  if (error instanceof BackendError) throw error;
  const retryable = !(isShipgateError(error) && (final.test(error.code) || error.exitCode === 2));
  throw new BackendError(isShipgateError(error) ? `${error.message} [${error.code}]` : (error as Error).message, retryable, { cause: error });
}

export interface PipelinesRollbackOptions {
  env?: NodeJS.ProcessEnv;
  /** CodeDeploy: how long to follow the rollback deployment. Default 30 min. */
  codeDeployTimeoutMs?: number;
}

export function imageRollbackBackend(options: PipelinesRollbackOptions = {}): RollbackBackend<'image'> {
  const env = options.env ?? process.env;
  return {
    kind: 'image',
    async rollback(spec, request) {
      try {
        const registry = parseImageReference(spec.repository).registry;
        // the registry password goes only to the hosts the operator listed (SHIPGATE_REGISTRY_HOSTS)
        const refused = untrustedRegistry(spec.repository, trustedOrigins(env));
        if (refused) throw new BackendError(`refused to roll back: ${refused}`, false);
        // ECR: a short-lived log-in from the app's AWS credentials; elsewhere a user and password from the environment
        const credentials = parseEcrHost(registry)
          ? await ecrLoginFor(registry, { signal: request.signal }).then((l) => ({ username: l.username, password: l.password }))
          : env.SHIPGATE_REGISTRY_PASSWORD
            ? { username: env.SHIPGATE_REGISTRY_USERNAME ?? '', password: env.SHIPGATE_REGISTRY_PASSWORD }
            : undefined;
        const result = await rollbackImage({
          repository: spec.repository,
          environment: spec.environment,
          ...(request.to.digest?.startsWith('sha256:') ? { to: request.to.digest } : {}),
          actor: request.requestedBy,
          signal: request.signal,
          ...(credentials ? { credentials } : {}),
        });
        return { detail: `${result.repository}:${result.tag} now points at ${result.to}${result.from ? ` (was ${result.from})` : ''} — ${request.to.version}` };
      } catch (error) {
        asBackendError(error);
      }
    },
  };
}

export function codeDeployRollbackBackend(options: PipelinesRollbackOptions = {}): RollbackBackend<'codedeploy'> {
  const breaker = awsCircuitBreaker();
  return {
    kind: 'codedeploy',
    async rollback(spec, request) {
      try {
        const result = await rollbackCodeDeploy({
          application: spec.application,
          deploymentGroup: spec.deploymentGroup,
          ...(spec.region ? { region: spec.region } : {}),
          ...(options.env ? { env: options.env } : {}),
          signal: request.signal,
          breaker,
          timeoutMs: options.codeDeployTimeoutMs ?? 30 * 60_000,
        });
        if (result.status !== 'Succeeded') throw new BackendError(result.message, false);
        return { detail: `${result.message} — ${request.to.version}` };
      } catch (error) {
        asBackendError(error);
      }
    },
  };
}

export function pipelinesRollbacks(options: PipelinesRollbackOptions = {}): RollbackBackends {
  return { image: imageRollbackBackend(options), codedeploy: codeDeployRollbackBackend(options) };
}
