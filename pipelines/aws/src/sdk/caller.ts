// The options every AWS-calling function of shipgate takes from its caller (a step, the CLI, the
// Slack app), beside its own inputs: one shape, so they are passed through unchanged.
import type { AwsClientOptions } from './config.js';
import type { AwsCallOptions, RetryOptions } from './call.js';
import type { Clock } from './poll.js';

/** What every function of shipgate that calls AWS for a caller accepts besides its own inputs. */
export interface AwsCallerOptions extends AwsClientOptions {
  /** The environment the AWS identity and region come from (a step's own `env:`); default: this process's. */
  env?: Readonly<Record<string, string | undefined>> | undefined;
  signal?: AbortSignal | undefined;
  clock?: Clock | undefined;
  retry?: RetryOptions | undefined;
  /** A circuit breaker shared across calls (long-lived callers such as the Slack app): `awsCircuitBreaker()`. */
  breaker?: AwsCallOptions['breaker'];
  /** Progress lines (status changes, counts, failures). */
  log?: ((line: string) => void) | undefined;
}
