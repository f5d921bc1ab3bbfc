// ECR log-in through GetAuthorizationToken, with the real AWS SDK client and aws-sdk-client-mock.
import { afterEach, describe, expect, it } from '@jest/globals';
import { ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import { mockClient } from 'aws-sdk-client-mock';
import { ecrLogin, ecrLoginFor, parseEcrHost } from '../../src/oci/ecr.js';
import { imageStep } from '../../src/image/index.js';
import { runStepInProcess } from '../../../core/src/executors/local.js';

const ecr = mockClient(ECRClient);
afterEach(() => {
  ecr.reset();
});

describe('ecrLogin', () => {
  it('decodes the token into user, password and registry host', async () => {
    const expiresAt = new Date('2026-12-01T20:00:00Z');
    ecr.on(GetAuthorizationTokenCommand).resolves({
      authorizationData: [{ authorizationToken: Buffer.from('AWS:eyJwYXNzd29yZCI6dHJ1ZX0=').toString('base64'), proxyEndpoint: 'https://123456789012.dkr.ecr.eu-west-1.amazonaws.com', expiresAt }],
    });
    const login = await ecrLogin(new ECRClient({ region: 'eu-west-1' }), { registryIds: ['123456789012'] });
    expect(login).toEqual({ registry: '123456789012.dkr.ecr.eu-west-1.amazonaws.com', username: 'AWS', password: 'eyJwYXNzd29yZCI6dHJ1ZX0=', expiresAt });
    expect(ecr.commandCalls(GetAuthorizationTokenCommand)[0]!.args[0].input).toEqual({ registryIds: ['123456789012'] });
  });

  it('access denied becomes a ShipgateError with the IAM hint', async () => {
    ecr.on(GetAuthorizationTokenCommand).rejects(Object.assign(new Error('User is not authorized to perform: ecr:GetAuthorizationToken'), { name: 'AccessDeniedException' }));
    await expect(ecrLogin(new ECRClient({ region: 'eu-west-1' }))).rejects.toMatchObject({ code: 'image.ecr-login', exitCode: 3, hint: expect.stringContaining('ecr:GetAuthorizationToken') });
  });

  it('no usable data is an error, not a silent empty password', async () => {
    ecr.on(GetAuthorizationTokenCommand).resolves({ authorizationData: [] });
    await expect(ecrLogin(new ECRClient({ region: 'eu-west-1' }))).rejects.toMatchObject({ code: 'image.ecr-login' });
  });

  it.each([
    ['123456789012.dkr.ecr.eu-west-1.amazonaws.com', { accountId: '123456789012', region: 'eu-west-1' }],
    ['123456789012.dkr.ecr-fips.us-east-1.amazonaws.com', { accountId: '123456789012', region: 'us-east-1' }],
    ['ghcr.io', undefined],
    ['12345.dkr.ecr.eu-west-1.amazonaws.com', undefined],
  ])('parseEcrHost(%s)', (host, expected) => {
    expect(parseEcrHost(host)).toEqual(expected);
  });

  it('ecrLoginFor asks for the image’s own account and refuses a token for another registry', async () => {
    const host = '210987654321.dkr.ecr.us-east-2.amazonaws.com';
    ecr.on(GetAuthorizationTokenCommand).resolves({ authorizationData: [{ authorizationToken: Buffer.from('AWS:pw').toString('base64'), proxyEndpoint: `https://${host}` }] });
    expect(await ecrLoginFor(host, { client: new ECRClient({ region: 'us-east-2' }) })).toMatchObject({ registry: host, username: 'AWS', password: 'pw' });
    expect(ecr.commandCalls(GetAuthorizationTokenCommand)[0]!.args[0].input).toEqual({ registryIds: ['210987654321'] });
    await expect(ecrLoginFor('ghcr.io', { client: new ECRClient({ region: 'us-east-2' }) })).rejects.toMatchObject({ code: 'image.ecr-registry-mismatch', message: expect.stringContaining('ghcr.io') });
  });

  it('the image step logs in to ECR for promote and masks the password in every log line', async () => {
    const password = 'ecr-password-that-must-not-leak';
    ecr.on(GetAuthorizationTokenCommand).resolves({ authorizationData: [{ authorizationToken: Buffer.from(`AWS:${password}`).toString('base64'), proxyEndpoint: 'https://127.0.0.1:1' }] });
    const result = await runStepInProcess(imageStep, { command: 'promote', image: '127.0.0.1:1/orders:v1', tag: 'production', 'ecr-login': true, 'aws-region': 'eu-west-1' }, { env: { PATH: process.env.PATH } });
    expect(ecr.commandCalls(GetAuthorizationTokenCommand)).toHaveLength(1);
    // the registry is not there: the promote fails as unreachable, after the log-in
    expect(result.error).toMatchObject({ code: 'registry.unreachable' });
    expect(JSON.stringify(result)).not.toContain(password);
  });
});
