// Which `Authorization` a registry request carries, learned from the registry's 401 challenges:
// a Bearer token from the challenge's realm for the scopes the request needs (one token per scope
// set, shared by concurrent requests), or Basic credentials once the registry asked for Basic. A
// 401 earns one more try when it taught something (a new challenge, or a scope the token lacked);
// otherwise it, and a 403, become errors that say what to fix.
import { ExitCode, ShipgateError } from '@shipgate/protocol';
import { basicAuthorization, mergeScopes, parseAuthChallenge, repositoryScope, tokenUrl, type AuthChallenge, type RegistryCredentials } from './auth.js';
import { describeRequest, registryErrorText, type RequestSpec } from './http.js';

/** Sends one request to the token service (with the client's retries and time bounds). */
export type TokenRequest = (spec: RequestSpec, url: string, headers: Record<string, string>) => Promise<Response>;

export interface AuthorizerOptions {
  registry: string;
  credentials?: RegistryCredentials | undefined;
  /** Scopes added to every token request, so one token serves a whole operation. */
  scopes?: readonly string[] | undefined;
  send: TokenRequest;
}

export class RegistryAuthorizer {
  #challenge: AuthChallenge | undefined;
  readonly #tokens = new Map<string, Promise<string>>();

  constructor(private readonly options: AuthorizerOptions) {}

  /** The challenge learned so far (undefined before the first 401). */
  get challenge(): AuthChallenge | undefined {
    return this.#challenge;
  }

  /** The `Authorization` header for a request, or undefined to send none. */
  async authorization(spec: RequestSpec, signal: AbortSignal | undefined): Promise<string | undefined> {
    const { credentials } = this.options;
    const challenge = this.#challenge;
    if (challenge?.scheme === 'bearer' && challenge.realm) {
      const scopes = mergeScopes([repositoryScope(spec.repository, spec.push ?? false), ...(spec.scopes ?? []), ...(this.options.scopes ?? [])]);
      return `Bearer ${await this.#token(challenge, scopes, signal)}`;
    }
    if (credentials && 'token' in credentials) return `Bearer ${credentials.token}`;
    // Basic is sent up front only once we know it is wanted, or when there is no other choice:
    // a Bearer registry would otherwise see the password on every request.
    if (credentials && (challenge?.scheme === 'basic' || challenge === undefined)) return basicAuthorization(credentials);
    return undefined;
  }

  /**
   * A 401 to `spec`, sent with the challenge `used`: learns the registry's challenge and returns
   * the request to try once more (`mayRetry`), or throws `registry.unauthorized`.
   */
  async answerUnauthorized(response: Response, spec: RequestSpec, used: AuthChallenge | undefined, mayRetry: boolean): Promise<RequestSpec> {
    const challenge = parseAuthChallenge(response.headers.get('www-authenticate'));
    const detail = `${describeRequest(this.options.registry, spec)}: ${await registryErrorText(response)}`;
    const learned = challenge && (used?.scheme !== challenge.scheme || used.realm !== challenge.realm);
    // A Bearer token that lacks a scope the registry names (e.g. a mount's source) earns one
    // more try with that scope added.
    const widened = challenge?.scheme === 'bearer' && used?.scheme === 'bearer' && challenge.scope && !(spec.scopes ?? []).includes(challenge.scope);
    // Learn the challenge once and try again; a second 401 means the credentials are wrong.
    // A streamed body cannot be re-sent, so its request is not repeated.
    if (!mayRetry || !challenge || !(learned || widened) || spec.retryable === false) throw this.authError(401, detail);
    if (!this.#challenge || learned) this.#challenge = challenge;
    if (challenge.scheme === 'basic' && !this.options.credentials) throw this.authError(401, detail);
    return widened ? { ...spec, scopes: [...(spec.scopes ?? []), challenge.scope!] } : spec;
  }

  authError(status: number, detail: string): ShipgateError {
    const { registry } = this.options;
    if (status === 403) {
      return new ShipgateError('registry.forbidden', `${registry}: access denied — ${detail}`, {
        exitCode: ExitCode.external,
        hint: 'the credentials are valid but lack permission: grant pull (and push to change tags) on the repository',
      });
    }
    return new ShipgateError('registry.unauthorized', `${registry}: authentication required or failed — ${detail}`, {
      exitCode: ExitCode.external,
      hint: 'set SHIPGATE_REGISTRY_USERNAME / SHIPGATE_REGISTRY_PASSWORD (or --ecr for Amazon ECR); check they are current',
    });
  }

  #token(challenge: AuthChallenge, scopes: string[], signal: AbortSignal | undefined): Promise<string> {
    const key = scopes.join(' ');
    let token = this.#tokens.get(key);
    if (!token) {
      token = this.#fetchToken(challenge, scopes, signal);
      // a failed token request is not cached: the next call asks again
      token.catch(() => this.#tokens.delete(key));
      this.#tokens.set(key, token);
    }
    return token;
  }

  async #fetchToken(challenge: AuthChallenge, scopes: string[], signal: AbortSignal | undefined): Promise<string> {
    const { credentials } = this.options;
    const headers: Record<string, string> = {};
    if (credentials && 'username' in credentials) headers.authorization = basicAuthorization(credentials);
    if (credentials && 'token' in credentials) headers.authorization = `Bearer ${credentials.token}`;
    const url = tokenUrl(challenge, scopes);
    const response = await this.options.send({ method: 'GET', path: url, repository: '', headers, accept: [200, 401, 403], ...(signal ? { signal } : {}) }, url, headers);
    if (response.status !== 200) {
      const detail = await registryErrorText(response);
      throw this.authError(response.status, `the token service ${new URL(url).host} refused ${scopes.join(' ')}: ${detail}`);
    }
    const body = (await response.json()) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!token) throw new ShipgateError('registry.protocol', `the token service ${new URL(url).host} answered without a token`, { exitCode: ExitCode.external });
    return token;
  }
}
