// Every AWS request of shipgate goes through `awsCall`: bounded retries with exponential back-off
// and jitter (cockatiel) for throttling and transient faults, the caller's AbortSignal handed to the
// SDK as `abortSignal` and honoured during back-off, and any failure that is left turned into a
// ShipgateError that names the IAM action and resource (see errors.ts).
import { ConsecutiveBreaker, ExponentialBackoff, circuitBreaker, handleWhen, isBrokenCircuitError, retry, wrap, type CircuitBreakerPolicy } from 'cockatiel';
import { ExitCode, ShipgateError } from '@shipgate/protocol';
import { awsErrorName, isAbortError, isRetryableAwsError, toShipgateError, type AwsOperation } from './errors.js';

export interface RetryOptions {
  /** Attempts in all, the first included. Default 5. */
  attempts?: number;
  /** First back-off delay; later ones grow ×2 with decorrelated jitter. Default 250 ms. */
  initialDelayMs?: number;
  /** Longest single back-off. Default 10 s. */
  maxDelayMs?: number;
}

export interface AwsCallOptions extends AwsOperation {
  signal?: AbortSignal | undefined;
  retry?: RetryOptions | undefined;
  /**
   * Service errors the caller knows better (by error name, e.g. `DeploymentLimitExceededException`):
   * each maps the SDK error to the caller's own ShipgateError. Not retried.
   */
  errors?: Readonly<Record<string, (error: unknown) => ShipgateError>> | undefined;
  /**
   * A breaker shared by the calls of a long-lived process (the Slack app): after repeated faults
   * AWS is not called at all for a while (`aws.circuit-open`). See `awsCircuitBreaker`.
   */
  breaker?: CircuitBreakerPolicy | undefined;
  /** Told before each retry (logged by steps as progress). */
  onRetry?: ((attempt: number, error: unknown, delayMs: number) => void) | undefined;
}

/** What `client.send(command, options)` receives as its second argument. */
export interface SendOptions {
  abortSignal?: AbortSignal;
}

export const defaultRetry: Required<RetryOptions> = { attempts: 5, initialDelayMs: 250, maxDelayMs: 10_000 };

/**
 * Runs one AWS request: `awsCall((o) => client.send(new GetDeploymentCommand(input), o), { action:
 * 'codedeploy:GetDeployment', resource: arn, signal })`. Resolves to the SDK's output; rejects with
 * a ShipgateError, or with the abort reason when `signal` fired.
 */
export async function awsCall<Output>(send: (options: SendOptions) => Promise<Output>, options: AwsCallOptions): Promise<Output> {
  const { attempts, initialDelayMs, maxDelayMs } = { ...defaultRetry, ...options.retry };
  const known = options.errors ?? {};
  const policy = retry(
    handleWhen((error) => !(awsErrorName(error)! in known) && isRetryableAwsError(error)),
    { maxAttempts: Math.max(0, attempts - 1), backoff: new ExponentialBackoff({ initialDelay: initialDelayMs, maxDelay: maxDelayMs }) },
  ).dangerouslyUnref(); // an abandoned back-off (see untilAborted) must not keep the process alive
  let tried = 0;
  const listener = options.onRetry ? policy.onRetry((r) => 'error' in r && options.onRetry!(r.attempt, r.error, r.delay)) : undefined;
  try {
    options.signal?.throwIfAborted();
    const guarded = options.breaker ? wrap(policy, options.breaker) : policy;
    const attempt = guarded.execute(async ({ signal }) => {
      tried += 1;
      const combined = options.signal ? AbortSignal.any([options.signal, signal]) : signal;
      combined.throwIfAborted();
      return send({ abortSignal: combined });
    }, options.signal);
    return await untilAborted(attempt, options.signal);
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    if (isAbortError(error)) throw error;
    if (isBrokenCircuitError(error)) {
      throw new ShipgateError('aws.circuit-open', `not calling ${options.action}: AWS failed repeatedly just now`, { exitCode: ExitCode.external, hint: 'wait a little and try again; see the earlier errors for the cause' });
    }
    const name = awsErrorName(error);
    if (name !== undefined && Object.hasOwn(known, name)) throw known[name]!(error);
    throw toShipgateError(error, options, tried);
  } finally {
    listener?.dispose();
  }
}

export interface BreakerOptions {
  /** Faults in a row (after retries) that open the circuit. Default 5. */
  consecutiveFailures?: number;
  /** How long it stays open before one trial call. Default 30 s. */
  halfOpenAfterMs?: number;
}

/** A circuit breaker for `awsCall({ breaker })`; only faults worth retrying count (not AccessDenied). */
export function awsCircuitBreaker(options: BreakerOptions = {}): CircuitBreakerPolicy {
  return circuitBreaker(handleWhen(isRetryableAwsError), { halfOpenAfter: options.halfOpenAfterMs ?? 30_000, breaker: new ConsecutiveBreaker(options.consecutiveFailures ?? 5) });
}

/**
 * `work`, or the signal's reason as soon as it aborts. cockatiel checks the signal only between
 * attempts, not during a back-off delay, so a cancel would otherwise wait out the delay (up to 10 s).
 */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  work.catch(() => {}); // settles after we stopped listening: not an unhandled rejection
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
