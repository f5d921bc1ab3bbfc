import { afterEach, describe, expect, it } from '@jest/globals';
import { mockClient } from 'aws-sdk-client-mock';
import { CodeDeployClient, CodeDeployServiceException, GetDeploymentCommand, DeploymentLimitExceededException } from '@aws-sdk/client-codedeploy';
import { awsCall, awsCircuitBreaker, awsClientConfig, isRetryableAwsError, toShipgateError } from '../../src/sdk/index.js';
import { ShipgateError } from '../../../protocol/src/errors.js';

// Errors as the SDK deserialises them from AWS's JSON protocol: a ServiceException whose name is
// the `__type` AWS sent, with $fault and $metadata.
function serviceError(name: string, message: string, status = 400): CodeDeployServiceException {
  return new CodeDeployServiceException({ name, message, $fault: status >= 500 ? 'server' : 'client', $metadata: { httpStatusCode: status, requestId: 'req-1' } });
}

const cd = mockClient(CodeDeployClient);
afterEach(() => {
  cd.reset();
});
const client = () => new CodeDeployClient(awsClientConfig({ region: 'eu-west-1' }, {}));
const op = { action: 'codedeploy:GetDeployment', resource: 'arn:aws:codedeploy:eu-west-1:*:deploymentgroup:orders/*' };
const fast = { attempts: 4, initialDelayMs: 1, maxDelayMs: 2 };

describe('awsCall', () => {
  it('retries throttling and then returns the answer', async () => {
    cd.on(GetDeploymentCommand)
      .rejectsOnce(serviceError('ThrottlingException', 'Rate exceeded'))
      .rejectsOnce(serviceError('ThrottlingException', 'Rate exceeded'))
      .resolves({ deploymentInfo: { deploymentId: 'd-1', status: 'Succeeded' } });
    const retries: number[] = [];
    const c = client();
    const out = await awsCall((o) => c.send(new GetDeploymentCommand({ deploymentId: 'd-1' }), o), { ...op, retry: fast, onRetry: (n) => retries.push(n) });
    expect(out.deploymentInfo?.status).toBe('Succeeded');
    expect(cd.commandCalls(GetDeploymentCommand)).toHaveLength(3);
    expect(retries).toEqual([1, 2]);
  });

  it('passes the AbortSignal to client.send as abortSignal', async () => {
    cd.on(GetDeploymentCommand).resolves({});
    const c = client();
    const controller = new AbortController();
    await awsCall((o) => c.send(new GetDeploymentCommand({ deploymentId: 'd-1' }), o), { ...op, signal: controller.signal });
    const options = (cd.send.firstCall.args as unknown[])[1] as { abortSignal?: AbortSignal };
    expect(options.abortSignal).toBeDefined();
    controller.abort();
    expect(options.abortSignal!.aborted).toBe(true);
  });

  it('gives up after the attempts and says it was throttled', async () => {
    cd.on(GetDeploymentCommand).rejects(serviceError('ThrottlingException', 'Rate exceeded'));
    const c = client();
    const error = await awsCall((o) => c.send(new GetDeploymentCommand({ deploymentId: 'd-1' }), o), { ...op, retry: fast }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ShipgateError);
    expect((error as ShipgateError).code).toBe('aws.throttled');
    expect((error as ShipgateError).message).toMatch(/after 4 attempt/);
    expect(cd.commandCalls(GetDeploymentCommand)).toHaveLength(4);
  });

  it('names the action and resource IAM refused, without retrying', async () => {
    cd.on(GetDeploymentCommand).rejects(
      serviceError(
        'AccessDeniedException',
        'User: arn:aws:sts::111122223333:assumed-role/ci/run-7 is not authorized to perform: codedeploy:GetDeployment on resource: arn:aws:codedeploy:eu-west-1:111122223333:deploymentgroup:orders/prod because no identity-based policy allows the codedeploy:GetDeployment action',
      ),
    );
    const c = client();
    const error = (await awsCall((o) => c.send(new GetDeploymentCommand({ deploymentId: 'd-1' }), o), { ...op, retry: fast }).catch((e: unknown) => e)) as ShipgateError;
    expect(error.code).toBe('aws.access-denied');
    expect(error.message).toBe('missing permission: codedeploy:GetDeployment on arn:aws:codedeploy:eu-west-1:111122223333:deploymentgroup:orders/prod');
    expect(error.hint).toMatch(/assumed-role\/ci\/run-7/);
    expect(error.exitCode).toBe(3);
    expect(cd.commandCalls(GetDeploymentCommand)).toHaveLength(1);
  });

  it('falls back to the operation it was told when the message does not say', async () => {
    cd.on(GetDeploymentCommand).rejects(serviceError('AccessDeniedException', 'Access denied'));
    const c = client();
    const error = (await awsCall((o) => c.send(new GetDeploymentCommand({ deploymentId: 'd-1' }), o), op).catch((e: unknown) => e)) as ShipgateError;
    expect(error.message).toBe(`missing permission: ${op.action} on ${op.resource}`);
  });

  it('says the credentials expired', async () => {
    cd.on(GetDeploymentCommand).rejects(serviceError('ExpiredTokenException', 'The security token included in the request is expired'));
    const c = client();
    const error = (await awsCall((o) => c.send(new GetDeploymentCommand({ deploymentId: 'd-1' }), o), op).catch((e: unknown) => e)) as ShipgateError;
    expect(error.code).toBe('aws.credentials-expired');
    expect(error.hint).toMatch(/refresh/);
  });

  it('lets the caller map a service error it knows, and does not retry it', async () => {
    cd.on(GetDeploymentCommand).rejects(new DeploymentLimitExceededException({ message: 'limit', $metadata: {} }));
    const c = client();
    const error = (await awsCall((o) => c.send(new GetDeploymentCommand({ deploymentId: 'd-1' }), o), {
      ...op,
      errors: { DeploymentLimitExceededException: () => new ShipgateError('mine', 'busy') },
    }).catch((e: unknown) => e)) as ShipgateError;
    expect(error.code).toBe('mine');
    expect(cd.commandCalls(GetDeploymentCommand)).toHaveLength(1);
  });

  it('rejects with the abort reason when cancelled during back-off', async () => {
    cd.on(GetDeploymentCommand).rejects(serviceError('ThrottlingException', 'Rate exceeded'));
    const c = client();
    const controller = new AbortController();
    const pending = awsCall((o) => c.send(new GetDeploymentCommand({ deploymentId: 'd-1' }), o), {
      ...op,
      signal: controller.signal,
      retry: { attempts: 5, initialDelayMs: 5_000, maxDelayMs: 5_000 },
      onRetry: () => setImmediate(() => controller.abort(new Error('cancelled by test'))),
    });
    const started = performance.now();
    await expect(pending).rejects.toThrow('cancelled by test');
    // not after the 5 s back-off: cancel is immediate
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(cd.commandCalls(GetDeploymentCommand)).toHaveLength(1);
  });
});

describe('awsCircuitBreaker', () => {
  it('stops calling AWS after repeated faults, and not for access denied', async () => {
    const breaker = awsCircuitBreaker({ consecutiveFailures: 2, halfOpenAfterMs: 60_000 });
    const c = client();
    const get = () => awsCall((o) => c.send(new GetDeploymentCommand({ deploymentId: 'd-1' }), o), { ...op, breaker, retry: { attempts: 1 } }).then(
        () => { throw new Error('expected a failure'); },
        (e: unknown) => e as ShipgateError,
      );
    cd.on(GetDeploymentCommand).rejects(serviceError('AccessDeniedException', 'no'));
    expect((await get()).code).toBe('aws.access-denied');
    expect((await get()).code).toBe('aws.access-denied');
    cd.on(GetDeploymentCommand).rejects(serviceError('ServiceUnavailable', 'down', 503));
    expect((await get()).code).toBe('aws.request-failed');
    expect((await get()).code).toBe('aws.request-failed');
    const callsBefore = cd.commandCalls(GetDeploymentCommand).length;
    const open = await get();
    expect(open.code).toBe('aws.circuit-open');
    expect(open.message).toBe('not calling codedeploy:GetDeployment: AWS failed repeatedly just now');
    expect(cd.commandCalls(GetDeploymentCommand)).toHaveLength(callsBefore);
  });
});

describe('isRetryableAwsError', () => {
  it.each([
    ['ThrottlingException (400)', serviceError('ThrottlingException', 'x'), true],
    ['a server fault (503)', serviceError('ServiceUnavailable', 'x', 503), true],
    ['an internal failure (500)', serviceError('InternalFailure', 'x', 500), true],
    ['a reset connection', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), true],
    ['access denied', serviceError('AccessDeniedException', 'x'), false],
    ['a validation error', serviceError('InvalidDeploymentIdException', 'x'), false],
    ['an abort', Object.assign(new Error('aborted'), { name: 'AbortError' }), false],
  ])('%s → %s', (_label, error, expected) => {
    expect(isRetryableAwsError(error)).toBe(expected);
  });
});

describe('toShipgateError', () => {
  it('reports any other service error with its name and request id', () => {
    const error = toShipgateError(serviceError('InvalidDeploymentIdException', 'bad id'), op);
    expect(error.code).toBe('aws.request-failed');
    expect(error.message).toBe('codedeploy:GetDeployment on arn:aws:codedeploy:eu-west-1:*:deploymentgroup:orders/* failed: InvalidDeploymentIdException: bad id (request id req-1)');
  });

  it('reads the action and resource out of IAM wording that ends the sentence', () => {
    const error = toShipgateError(serviceError('AccessDeniedException', 'User: arn:aws:iam::1:user/ci is not authorized to perform: codepipeline:PutApprovalResult on resource: arn:aws:codepipeline:eu-west-1:1:orders/Approve/Manual.'), op);
    expect(error.message).toBe('missing permission: codepipeline:PutApprovalResult on arn:aws:codepipeline:eu-west-1:1:orders/Approve/Manual');
  });

  it('tells a missing credential chain from a network failure', () => {
    expect(toShipgateError(Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }), op).code).toBe('aws.no-credentials');
    expect(toShipgateError(Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' }), op).code).toBe('aws.unreachable');
  });
});

describe('awsClientConfig', () => {
  it('takes the region from the input, then AWS_REGION, then AWS_DEFAULT_REGION', () => {
    expect(awsClientConfig({ region: 'eu-west-1' }, { AWS_REGION: 'us-east-1' }).region).toBe('eu-west-1');
    expect(awsClientConfig({}, { AWS_REGION: 'us-east-1', AWS_DEFAULT_REGION: 'us-west-2' }).region).toBe('us-east-1');
    expect(awsClientConfig({}, { AWS_DEFAULT_REGION: 'us-west-2' }).region).toBe('us-west-2');
  });

  it("takes the identity from the step's environment: keys first, else the profile", () => {
    expect(awsClientConfig({ region: 'eu-west-1' }, { AWS_ACCESS_KEY_ID: 'AKID', AWS_SECRET_ACCESS_KEY: 's', AWS_SESSION_TOKEN: 't', AWS_PROFILE: 'p' })).toMatchObject({ credentials: { accessKeyId: 'AKID', secretAccessKey: 's', sessionToken: 't' } });
    const withProfile = awsClientConfig({ region: 'eu-west-1' }, { AWS_PROFILE: 'deploy' });
    expect(withProfile.profile).toBe('deploy');
    expect(withProfile).not.toHaveProperty('credentials');
    expect(awsClientConfig({ region: 'eu-west-1' }, {})).toEqual({ region: 'eu-west-1', maxAttempts: 1 });
  });

  it('leaves retries to awsCall (one SDK attempt)', () => {
    expect(awsClientConfig({ region: 'eu-west-1' }, {}).maxAttempts).toBe(1);
  });

  it.each([
    [{}, /no AWS region/],
    [{ region: 'Frankfurt' }, /not an AWS region name/],
    [{ region: 'eu-west-1', endpoint: 'localhost:4566' }, /not a URL/],
  ])('refuses %j', (options, message) => {
    expect(() => awsClientConfig(options, {})).toThrow(message);
  });
});
