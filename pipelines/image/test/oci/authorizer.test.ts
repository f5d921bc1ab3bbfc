// The registry authorizer on its own: which Authorization a request carries, and what a 401
// teaches it (a new challenge, a missing scope) or ends in. The token service is a function that
// answers like one (the distribution token spec's JSON), so no server is needed here; the client
// tests run the same rules against loopback servers.
import { describe, expect, it } from '@jest/globals';
import { RegistryAuthorizer, type TokenRequest } from '../../src/oci/authorizer.js';
import type { RegistryCredentials } from '../../src/oci/auth.js';
import type { RequestSpec } from '../../src/oci/http.js';
import { nextPage } from '../../src/oci/tags.js';

const registry = 'registry.example.test';
const bearer = 'Bearer realm="https://auth.example.test/token",service="registry.example.test"';
const get: RequestSpec = { method: 'GET', path: '/v2/shop/orders/manifests/v1', repository: 'shop/orders', accept: [200] };

function unauthorized(challenge?: string): Response {
  return new Response(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }), { status: 401, headers: challenge ? { 'www-authenticate': challenge } : {} });
}

function authorizer(credentials?: RegistryCredentials, tokens: string[] = []): { auth: RegistryAuthorizer; asked: string[] } {
  const asked: string[] = [];
  const send: TokenRequest = async (_spec, url) => {
    asked.push(new URL(url).searchParams.getAll('scope').join(' '));
    return new Response(JSON.stringify({ token: tokens.shift() ?? 'no-more' }), { status: 200 });
  };
  return { auth: new RegistryAuthorizer({ registry, ...(credentials ? { credentials } : {}), send }), asked };
}

describe('RegistryAuthorizer: before any challenge', () => {
  it.each<[string, RegistryCredentials | undefined, string | undefined]>([
    ['no credentials: nothing', undefined, undefined],
    ['a token: Bearer', { token: 'ghp_abc' }, 'Bearer ghp_abc'],
    ['a user and password: Basic', { username: 'AWS', password: 'pw' }, `Basic ${Buffer.from('AWS:pw').toString('base64')}`],
  ])('%s', async (_name, credentials, expected) => {
    expect(await authorizer(credentials).auth.authorization(get, undefined)).toBe(expected);
  });
});

describe('RegistryAuthorizer: a 401', () => {
  it('with a new Bearer challenge is learned and earns one more try; the token is asked for the request’s scope, once', async () => {
    const { auth, asked } = authorizer(undefined, ['t1']);
    const again = await auth.answerUnauthorized(unauthorized(bearer), get, undefined, true);
    expect(again).toEqual(get);
    expect(auth.challenge).toMatchObject({ scheme: 'bearer', realm: 'https://auth.example.test/token' });
    expect(await auth.authorization(get, undefined)).toBe('Bearer t1');
    expect(await auth.authorization(get, undefined)).toBe('Bearer t1');
    expect(asked).toEqual(['repository:shop/orders:pull']);
  });

  it('naming a scope the token lacks widens the request’s scopes', async () => {
    const { auth } = authorizer(undefined, ['t1', 't2']);
    await auth.answerUnauthorized(unauthorized(bearer), get, undefined, true);
    const mount: RequestSpec = { ...get, method: 'POST', push: true };
    const again = await auth.answerUnauthorized(unauthorized(`${bearer},scope="repository:shop/base:pull"`), mount, auth.challenge, true);
    expect(again.scopes).toEqual(['repository:shop/base:pull']);
  });

  it.each<[string, () => Promise<unknown>]>([
    ['without a challenge', () => authorizer().auth.answerUnauthorized(unauthorized(), get, undefined, true)],
    ['on the second round', () => authorizer().auth.answerUnauthorized(unauthorized(bearer), get, undefined, false)],
    ['for a streamed body, which cannot be sent again', () => authorizer().auth.answerUnauthorized(unauthorized(bearer), { ...get, retryable: false }, undefined, true)],
    ['asking for Basic when there are no credentials', () => authorizer().auth.answerUnauthorized(unauthorized('Basic realm="registry"'), get, undefined, true)],
    ['with the challenge already used (the credentials are wrong)', async () => {
      const { auth } = authorizer(undefined, ['t1']);
      await auth.answerUnauthorized(unauthorized(bearer), get, undefined, true);
      return auth.answerUnauthorized(unauthorized(bearer), get, auth.challenge, true);
    }],
  ])('%s is registry.unauthorized, naming the request and the registry’s words', async (_name, answer) => {
    await expect(answer()).rejects.toMatchObject({
      code: 'registry.unauthorized',
      message: expect.stringContaining('GET registry.example.test/v2/shop/orders/manifests/v1: UNAUTHORIZED: authentication required'),
    });
  });

  it('a refusing token service is registry.forbidden (403) or registry.unauthorized, and is asked again next time', async () => {
    let status = 403;
    const auth = new RegistryAuthorizer({ registry, send: async () => new Response('{"errors":[{"code":"DENIED","message":"no"}]}', { status }) });
    await auth.answerUnauthorized(unauthorized(bearer), get, undefined, true);
    await expect(auth.authorization(get, undefined)).rejects.toMatchObject({ code: 'registry.forbidden', message: expect.stringContaining('DENIED: no') });
    status = 401;
    await expect(auth.authorization(get, undefined)).rejects.toMatchObject({ code: 'registry.unauthorized' });
  });
});

describe('nextPage', () => {
  it.each<[string | null, string | undefined]>([
    [null, undefined],
    ['', undefined],
    ['</v2/shop/orders/tags/list?n=1000&last=v9>; rel="next"', '/v2/shop/orders/tags/list?n=1000&last=v9'],
    ['<https://r.example.test/v2/x/tags/list?last=a>;rel="next"', 'https://r.example.test/v2/x/tags/list?last=a'],
    ['</v2/x/tags/list?last=a>; rel="prev"', undefined],
  ])('%j', (link, expected) => {
    expect(nextPage(link)).toBe(expected);
  });
});
