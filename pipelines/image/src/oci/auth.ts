// Registry authentication as the distribution token spec and Docker describe it. A registry answers
// 401 with `WWW-Authenticate: Bearer realm="…",service="…",scope="…"` (Docker Hub, GHCR, Harbor,
// distribution with token auth): the client asks the realm for a token for the scopes it needs,
// with Basic credentials if it has any. ECR answers `Basic realm=…` and takes the user `AWS` with
// the password from GetAuthorizationToken. Parsing is pure; fetching the token is the client's job.

export interface BasicCredentials {
  username: string;
  password: string;
}

/** An already issued registry token (e.g. a GitHub token for GHCR), sent as `Bearer`. */
export interface TokenCredentials {
  token: string;
}

export type RegistryCredentials = BasicCredentials | TokenCredentials;

export interface AuthChallenge {
  scheme: 'bearer' | 'basic' | 'other';
  realm?: string;
  service?: string;
  scope?: string;
}

/** Parses a `WWW-Authenticate` header (one challenge; quoted values may hold commas). */
export function parseAuthChallenge(header: string | null | undefined): AuthChallenge | undefined {
  if (!header) return undefined;
  const match = /^\s*([A-Za-z]+)\s*(.*)$/.exec(header);
  if (!match) return undefined;
  const scheme = match[1]!.toLowerCase();
  const params: Record<string, string> = {};
  const paramPattern = /([A-Za-z_]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?/g;
  for (const m of match[2]!.matchAll(paramPattern)) params[m[1]!.toLowerCase()] = (m[2] ?? m[3] ?? '').replace(/\\(.)/g, '$1');
  return {
    scheme: scheme === 'bearer' ? 'bearer' : scheme === 'basic' ? 'basic' : 'other',
    ...(params.realm ? { realm: params.realm } : {}),
    ...(params.service ? { service: params.service } : {}),
    ...(params.scope ? { scope: params.scope } : {}),
  };
}

/** `repository:<name>:pull` or `repository:<name>:pull,push`. */
export function repositoryScope(repository: string, push: boolean): string {
  return `repository:${repository}:${push ? 'pull,push' : 'pull'}`;
}

/**
 * Merges scopes so one token covers all of them: the same repository's actions are united
 * (`pull` + `pull,push` → `pull,push`), and the result is sorted, so it also serves as a cache key.
 */
export function mergeScopes(scopes: Iterable<string>): string[] {
  const byResource = new Map<string, Set<string>>();
  for (const scope of scopes) {
    for (const one of scope.split(' ').filter(Boolean)) {
      const last = one.lastIndexOf(':');
      const resource = one.slice(0, last);
      const actions = byResource.get(resource) ?? new Set<string>();
      for (const action of one.slice(last + 1).split(',')) if (action) actions.add(action);
      byResource.set(resource, actions);
    }
  }
  return [...byResource.entries()].map(([resource, actions]) => `${resource}:${[...actions].sort().join(',')}`).sort();
}

/** The token endpoint URL for a Bearer challenge and scopes. */
export function tokenUrl(challenge: AuthChallenge, scopes: readonly string[]): string {
  const url = new URL(challenge.realm!);
  if (challenge.service) url.searchParams.set('service', challenge.service);
  for (const scope of scopes) url.searchParams.append('scope', scope);
  return url.toString();
}

export function basicAuthorization(credentials: BasicCredentials): string {
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
}
