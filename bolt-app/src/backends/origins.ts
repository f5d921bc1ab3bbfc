// Where the app's credentials may go. A pipeline names URLs (a Jenkins build, a rollback job, a
// registry); the operator names the places the app trusts with its secrets (JENKINS_URL,
// GITHUB_API_URL, SHIPGATE_REGISTRY_HOSTS). A request naming anything else is refused when it is
// made (the API answers 400), and the backends check again before they send a credential, so a
// row written by an older version cannot leak one either.
import { parseEcrHost, parseImageReference } from '@shipgate/image';

/** The places the operator configured, read once from the environment. */
export interface TrustedOrigins {
  /** Jenkins roots (JENKINS_URL, comma-separated), each ending in `/`. */
  jenkins: string[];
  /** Registry hosts (`host[:port]`, SHIPGATE_REGISTRY_HOSTS) that may get SHIPGATE_REGISTRY_PASSWORD. */
  registries: string[];
  /** Whether a registry password is configured at all (without one nothing is sent). */
  registryPassword: boolean;
}

function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

export function withSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}

export function trustedOrigins(env: NodeJS.ProcessEnv): TrustedOrigins {
  return {
    jenkins: list(env.JENKINS_URL).map(withSlash),
    registries: list(env.SHIPGATE_REGISTRY_HOSTS).map((h) => h.toLowerCase()),
    registryPassword: Boolean(env.SHIPGATE_REGISTRY_PASSWORD),
  };
}

/**
 * The configured Jenkins root that `url` lies under: same scheme, host and port, a path below the
 * root's, and no user-info (`https://ci.example.com@elsewhere/` is another host). Undefined when
 * none does.
 */
export function trustedJenkinsRoot(url: string, roots: readonly string[]): string | undefined {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return undefined;
  }
  if (target.username || target.password) return undefined;
  return roots.find((root) => {
    const r = new URL(root);
    return r.origin === target.origin && withSlash(target.pathname).startsWith(withSlash(r.pathname));
  });
}

/** Why a Jenkins URL is refused, or undefined when the app may send Jenkins credentials there. */
export function untrustedJenkinsUrl(url: string, roots: readonly string[]): string | undefined {
  if (!roots.length) return 'JENKINS_URL is not set on the Slack app, so it talks to no Jenkins';
  if (trustedJenkinsRoot(url, roots)) return undefined;
  return `${new URL(url).origin} is not under JENKINS_URL (${roots.join(', ')}); the app sends Jenkins credentials only there`;
}

/** The registry host of an image repository (`host[:port]/path`), lower-cased, as the image rollback reads it. */
export function registryHost(repository: string): string | undefined {
  try {
    return parseImageReference(repository).registry.toLowerCase();
  } catch {
    return undefined;
  }
}

/** Why the registry password may not go to `repository`'s registry, or undefined. ECR logs in with the app's AWS role instead. */
export function untrustedRegistry(repository: string, trusted: TrustedOrigins): string | undefined {
  const host = registryHost(repository);
  if (host === undefined) return 'not an image repository (host/path)';
  if (parseEcrHost(host) || !trusted.registryPassword || trusted.registries.includes(host)) return undefined;
  return `registry ${host} is not in SHIPGATE_REGISTRY_HOSTS (${trusted.registries.join(', ') || 'empty'}); the app sends SHIPGATE_REGISTRY_PASSWORD only there`;
}

export interface UntrustedUrl {
  /** The request field, as the API names it (`backend.buildUrl`). */
  field: string;
  message: string;
}

/** Checks every URL of an approval's backend or a deployment's rollback against the trusted origins. */
export function checkCredentialTargets(request: { backend?: { kind: string; buildUrl?: string }; rollback?: { kind: string; jobUrl?: string; repository?: string } | undefined }, trusted: TrustedOrigins): UntrustedUrl | undefined {
  const { backend, rollback } = request;
  if (backend?.kind === 'jenkins' && backend.buildUrl) {
    const why = untrustedJenkinsUrl(backend.buildUrl, trusted.jenkins);
    if (why) return { field: 'backend.buildUrl', message: why };
  }
  if (rollback?.kind === 'jenkins' && rollback.jobUrl) {
    const why = untrustedJenkinsUrl(rollback.jobUrl, trusted.jenkins);
    if (why) return { field: 'rollback.jobUrl', message: why };
  }
  if (rollback?.kind === 'image' && rollback.repository) {
    const why = untrustedRegistry(rollback.repository, trusted);
    if (why) return { field: 'rollback.repository', message: why };
  }
  return undefined;
}
