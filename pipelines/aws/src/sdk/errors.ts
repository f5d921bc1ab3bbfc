// Reading AWS SDK v3 errors: which are worth retrying (throttling, 5xx, a dropped connection) and
// what a person should read when one is not (a missing IAM permission, expired credentials). The
// SDK's errors carry `name` (the service's error code), `$fault`, `$retryable` and `$metadata`;
// these functions only read those plain fields, so they work on any copy of the SDK and on fakes.
import { ExitCode, ShipgateError } from '@shipgate/protocol';

/** The fields shipgate reads from an SDK error. */
export interface AwsErrorLike {
  name?: string;
  message?: string;
  code?: string;
  $fault?: 'client' | 'server';
  $retryable?: { throttling?: boolean };
  $metadata?: { httpStatusCode?: number; requestId?: string };
}

const throttlingNames = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'ProvisionedThroughputExceededException',
  'BandwidthLimitExceeded',
  'SlowDown',
  'PriorRequestNotComplete',
  'EC2ThrottledException',
]);
const transientNames = new Set(['RequestTimeout', 'RequestTimeoutException', 'InternalFailure', 'InternalError', 'InternalServerError', 'ServiceUnavailable', 'TimeoutError']);
const transientCodes = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND']);
const accessDeniedNames = new Set(['AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation', 'UnauthorizedException', 'AuthorizationError', 'NotAuthorized']);
const expiredNames = new Set(['ExpiredToken', 'ExpiredTokenException', 'RequestExpired', 'TokenRefreshRequired']);
const invalidCredentialNames = new Set(['InvalidClientTokenId', 'UnrecognizedClientException', 'InvalidSignatureException', 'SignatureDoesNotMatch', 'IncompleteSignature', 'InvalidAccessKeyId']);

function fields(error: unknown): AwsErrorLike {
  return typeof error === 'object' && error !== null ? (error as AwsErrorLike) : {};
}

/** The service's error code (`ThrottlingException`, `DeploymentLimitExceededException`…), if it is one. */
export function awsErrorName(error: unknown): string | undefined {
  return fields(error).name;
}

export function isAbortError(error: unknown): boolean {
  const name = fields(error).name;
  return name === 'AbortError';
}

export function isThrottlingError(error: unknown): boolean {
  const e = fields(error);
  return throttlingNames.has(e.name ?? '') || e.$retryable?.throttling === true || e.$metadata?.httpStatusCode === 429;
}

/** Worth another attempt: throttled, a server fault, a timeout, a dropped connection. Never an abort. */
export function isRetryableAwsError(error: unknown): boolean {
  if (isAbortError(error)) return false;
  const e = fields(error);
  if (isThrottlingError(error)) return true;
  if (transientNames.has(e.name ?? '') || transientCodes.has(e.code ?? '')) return true;
  const status = e.$metadata?.httpStatusCode;
  if (status !== undefined && status >= 500) return true;
  return e.$fault === 'server' || e.$retryable !== undefined;
}

/** What was being attempted: named in every error so a person knows which permission or resource. */
export interface AwsOperation {
  /** The IAM action, e.g. `codedeploy:CreateDeployment`. */
  action: string;
  /** The resource it acts on: an ARN, or an ARN pattern when the SDK call names it by name. */
  resource: string;
}

// IAM's own wording: "User: arn:aws:sts::1:assumed-role/ci/x is not authorized to perform:
// codedeploy:CreateDeployment on resource: arn:aws:codedeploy:… because no identity-based policy…"
const deniedPattern = /(?:User: (\S+) )?is not authorized to perform: (\S+?)(?: on resource: (\S+?))?(?:\s|$|\.\s|,)/;

/** A person's version of any AWS failure: the action, the resource, and what to do. */
export function toShipgateError(error: unknown, operation: AwsOperation, attempts = 1): ShipgateError {
  if (error instanceof ShipgateError) return error;
  const e = fields(error);
  const name = e.name ?? 'Error';
  const message = (e.message ?? String(error)).split('\n')[0]!;
  const requestId = e.$metadata?.requestId ? ` (request id ${e.$metadata.requestId})` : '';
  const external = { exitCode: ExitCode.external, cause: error } as const;

  if (accessDeniedNames.has(name) || /not authorized to perform/.test(message)) {
    const parsed = deniedPattern.exec(message);
    const action = parsed?.[2] ?? operation.action;
    const resource = parsed?.[3]?.replace(/[.,;]$/, '') ?? operation.resource;
    const who = parsed?.[1] ? ` to ${parsed[1]}` : ' to the role shipgate runs as';
    return new ShipgateError('aws.access-denied', `missing permission: ${action} on ${resource}`, {
      ...external,
      hint: `grant "${action}" on "${resource}"${who}; "Deploying on AWS" in the @shipgate/aws README has a least-privilege policy per step`,
    });
  }
  if (expiredNames.has(name)) {
    return new ShipgateError('aws.credentials-expired', `the AWS credentials expired before ${operation.action} (${name})`, {
      ...external,
      hint: 'refresh them (aws sso login, assume the role again, or re-run the CI job for a new OIDC token) and run again',
    });
  }
  if (invalidCredentialNames.has(name)) {
    return new ShipgateError('aws.credentials-invalid', `AWS rejected the credentials for ${operation.action} (${name}): ${message}`, {
      ...external,
      hint: 'check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN or AWS_PROFILE, and that the keys belong to this account',
    });
  }
  if (name === 'CredentialsProviderError') {
    return new ShipgateError('aws.no-credentials', `no AWS credentials found for ${operation.action}`, {
      ...external,
      hint: 'configure credentials: AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, an instance role, or OIDC (aws-actions/configure-aws-credentials)',
    });
  }
  if (isThrottlingError(error)) {
    return new ShipgateError('aws.throttled', `AWS kept throttling ${operation.action} on ${operation.resource} after ${attempts} attempt(s) (${name})${requestId}`, {
      ...external,
      hint: 'fewer parallel AWS steps, a longer poll interval, or a higher service quota',
    });
  }
  if (e.$metadata || e.$fault) {
    return new ShipgateError('aws.request-failed', `${operation.action} on ${operation.resource} failed: ${name}: ${message}${requestId}`, {
      ...external,
      hint: attempts > 1 ? `gave up after ${attempts} attempts; check the service's health and run again` : 'the AWS error above says what it refused',
    });
  }
  return new ShipgateError('aws.unreachable', `could not call ${operation.action}: ${message}`, {
    ...external,
    hint: 'check the network, a proxy (HTTPS_PROXY) and the endpoint',
  });
}
