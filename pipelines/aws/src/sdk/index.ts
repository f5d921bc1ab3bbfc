// Shared AWS plumbing for shipgate's AWS steps and executors (CodeDeploy, CodePipeline, CodeBuild):
// client config (region, endpoint), `awsCall` (bounded retries, AbortSignal, errors for people) and
// `pollUntil` (bounded polling with an injectable clock). Never imports the SDK itself.
export { awsClient, awsClientConfig, resolveRegion, consoleUrl } from './config.js';
export type { AwsClientOptions, AwsClientConfig, AwsCredentials, AwsCredentialsInput } from './config.js';
export { awsCall, awsCircuitBreaker, defaultRetry, untilAborted } from './call.js';
export type { AwsCallOptions, RetryOptions, SendOptions, BreakerOptions } from './call.js';
export { toShipgateError, isRetryableAwsError, isThrottlingError, isAbortError, awsErrorName } from './errors.js';
export type { AwsOperation, AwsErrorLike } from './errors.js';
export { pollUntil, systemClock, fakeClock } from './poll.js';
export type { Clock, PollOptions, PollOutcome } from './poll.js';

export type { AwsCallerOptions } from './caller.js';
