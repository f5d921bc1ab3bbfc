// JSON with sorted keys, so equal values always serialise (and hash) the same: cache keys here,
// idempotency checks in the Slack app.

/** `value` as JSON with object keys sorted at every depth; `undefined` becomes `null`. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}
