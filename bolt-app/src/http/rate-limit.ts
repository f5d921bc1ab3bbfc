// A token bucket per client address for the pipelines' API: `burst` requests at once, refilled at
// `perSecond`. Checked before the bearer token, so a flood of bad tokens is slowed down too. The
// table of clients is bounded: when it is full, buckets that have refilled (idle clients) are
// dropped first, and if every one is busy the oldest goes.

export interface RateLimitOptions {
  /** Requests per second a client may keep up. */
  perSecond: number;
  /** Requests a client may send at once. */
  burst: number;
  /** How many clients are tracked at most. Default 10,000. */
  maxClients?: number;
}

export type RateDecision = { ok: true } | { ok: false; retryAfterSeconds: number };

export class ClientRateLimiter {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  readonly #o: Required<RateLimitOptions>;

  constructor(
    options: RateLimitOptions,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(options.perSecond > 0) || !(options.burst >= 1)) throw new Error('rate limit: perSecond must be > 0 and burst ≥ 1');
    this.#o = { maxClients: 10_000, ...options };
  }

  /** Takes one token for `client`, or says how long until one is there. */
  take(client: string): RateDecision {
    const now = this.now();
    const bucket = this.#buckets.get(client) ?? this.#admit(client, now);
    bucket.tokens = Math.min(this.#o.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.#o.perSecond);
    bucket.at = now;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / this.#o.perSecond)) };
  }

  #admit(client: string, now: number): { tokens: number; at: number } {
    if (this.#buckets.size >= this.#o.maxClients) this.#evict(now);
    const bucket = { tokens: this.#o.burst, at: now };
    this.#buckets.set(client, bucket);
    return bucket;
  }

  /** Drops the clients whose buckets are full again (they lose nothing); else the oldest one. */
  #evict(now: number): void {
    const refill = (this.#o.burst / this.#o.perSecond) * 1000;
    for (const [client, bucket] of this.#buckets) if (now - bucket.at >= refill) this.#buckets.delete(client);
    if (this.#buckets.size >= this.#o.maxClients) this.#buckets.delete(this.#buckets.keys().next().value!);
  }

  get clients(): number {
    return this.#buckets.size;
  }
}
