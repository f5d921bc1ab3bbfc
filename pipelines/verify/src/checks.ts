// One check judged on one evaluation: a number against `max`, `min` or `range`, and optionally
// against the previous version's number (`baseline`). Pure: values in, a verdict out.

export interface CheckLimits {
  max?: number | undefined;
  min?: number | undefined;
  range?: readonly [number, number] | undefined;
  /** Compare with the same query for the previous version: worse by more than `margin` fails. */
  baseline?: { margin: number; better: 'lower' | 'higher' } | undefined;
}

/** What a query gave: a number, or why there is none (Prometheus down, no data, NaN…). */
export type Measurement = { value: number } | { missing: string };

export type CheckStatus = 'pass' | 'fail' | 'inconclusive';

export interface CheckOutcome {
  status: CheckStatus;
  value: number | undefined;
  /** The limit as people read it: `≤ 0.05`, `0.1..0.5`, `≤ baseline 0.02 +10%`. */
  limit: string;
  /** Why it failed or is inconclusive (one line). */
  reason?: string;
}

function number(n: number): string {
  return Number.isInteger(n) ? String(n) : String(Number(n.toPrecision(4)));
}

/** The limit text of a check, for the table (baseline value when known). */
export function describeLimits(limits: CheckLimits, baseline?: number): string {
  const parts: string[] = [];
  if (limits.range) parts.push(`${number(limits.range[0])}..${number(limits.range[1])}`);
  if (limits.max !== undefined) parts.push(`≤ ${number(limits.max)}`);
  if (limits.min !== undefined) parts.push(`≥ ${number(limits.min)}`);
  if (limits.baseline) {
    const { margin, better } = limits.baseline;
    parts.push(`${better === 'lower' ? '≤' : '≥'} baseline${baseline === undefined ? '' : ` ${number(baseline)}`} ${better === 'lower' ? '+' : '-'}${number(margin * 100)}%`);
  }
  return parts.join(', ');
}

/** The worst the new version may be, given the baseline's value (relative margin). */
export function baselineBound(baseline: number, margin: number, better: 'lower' | 'higher'): number {
  // a relative margin around zero allows nothing; use the margin itself as an absolute floor there
  const slack = Math.max(Math.abs(baseline) * margin, baseline === 0 ? margin : 0);
  return better === 'lower' ? baseline + slack : baseline - slack;
}

function firstBreach(value: number, limits: CheckLimits, baseline: number | undefined): string | undefined {
  if (limits.range && (value < limits.range[0] || value > limits.range[1])) return `${number(value)} is outside ${number(limits.range[0])}..${number(limits.range[1])}`;
  if (limits.max !== undefined && value > limits.max) return `${number(value)} > ${number(limits.max)}`;
  if (limits.min !== undefined && value < limits.min) return `${number(value)} < ${number(limits.min)}`;
  if (limits.baseline && baseline !== undefined) {
    const bound = baselineBound(baseline, limits.baseline.margin, limits.baseline.better);
    const worse = limits.baseline.better === 'lower' ? value > bound : value < bound;
    if (worse) return `${number(value)} is worse than the baseline ${number(baseline)} by more than ${number(limits.baseline.margin * 100)}%`;
  }
  return undefined;
}

/**
 * Judges one measurement. No number (or NaN) is inconclusive, never a pass; so is a baseline
 * check whose baseline has no number.
 */
export function evaluateCheck(limits: CheckLimits, measured: Measurement, baselineMeasured?: Measurement): CheckOutcome {
  const baseline = baselineMeasured && 'value' in baselineMeasured && !Number.isNaN(baselineMeasured.value) ? baselineMeasured.value : undefined;
  const limit = describeLimits(limits, baseline);
  if ('missing' in measured) return { status: 'inconclusive', value: undefined, limit, reason: measured.missing };
  const { value } = measured;
  if (Number.isNaN(value)) return { status: 'inconclusive', value: undefined, limit, reason: 'the query gave NaN (no traffic to divide by?)' };
  const breach = firstBreach(value, limits, baseline);
  if (breach) return { status: 'fail', value, limit, reason: breach };
  if (limits.baseline && baseline === undefined) {
    const why = baselineMeasured && 'missing' in baselineMeasured ? baselineMeasured.missing : 'NaN';
    return { status: 'inconclusive', value, limit, reason: `baseline: ${why}` };
  }
  return { status: 'pass', value, limit };
}
