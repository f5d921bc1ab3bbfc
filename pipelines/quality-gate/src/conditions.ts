// The condition model every quality gate speaks, whether SonarQube evaluated it or shipgate did from
// local reports: a metric, its actual value, an operator, a threshold and a status. The operators
// are Sonar's: `LT` means "fails when the value is less than the threshold" (coverage), `GT` "fails
// when it is greater" (errors, duplication). Keeping one model means one table, one set of outputs
// and one summary for both kinds of gate.

/** Sonar's comparators. EQ and NE exist on old servers only, but old servers still answer with them. */
export type GateOperator = 'LT' | 'GT' | 'EQ' | 'NE';

/** OK and ERROR are what shipgate decides on; WARN (SonarQube < 7.6) and NONE are shown as they come. */
export type ConditionStatus = 'OK' | 'WARN' | 'ERROR' | 'NONE';

export interface GateCondition {
  /** Sonar's metric key (`new_coverage`) or a local one (`eslint_errors`). */
  readonly metric: string;
  /** The measured value as text, as Sonar reports it; undefined when there was nothing to measure. */
  readonly actual: string | undefined;
  readonly operator: GateOperator;
  readonly threshold: string;
  readonly status: ConditionStatus;
}

/** The gate's verdict: ERROR when any condition is ERROR (or the server says so), else OK. */
export type GateStatus = 'OK' | 'ERROR';

export interface GateResult {
  readonly status: GateStatus;
  readonly conditions: readonly GateCondition[];
  /** Where people look at the analysis (Sonar only). */
  readonly dashboardUrl?: string;
  /** What the server itself said, when it said something other than OK / ERROR (WARN, NONE). */
  readonly serverStatus?: string;
}

export const operatorSymbols: Readonly<Record<GateOperator, string>> = { LT: '<', GT: '>', EQ: '=', NE: '≠' };

/** Whether `actual operator threshold` holds — i.e. whether the condition FAILS (Sonar's sense). */
function breaches(actual: number, operator: GateOperator, threshold: number): boolean {
  switch (operator) {
    case 'LT':
      return actual < threshold;
    case 'GT':
      return actual > threshold;
    case 'EQ':
      return actual === threshold;
    case 'NE':
      return actual !== threshold;
  }
}

/**
 * Evaluates one local condition. A missing measure (no changed lines to cover, say) is OK with no
 * actual value rather than a failure: there is nothing to hold against the threshold.
 */
export function evaluateGateCondition(metric: string, actual: number | undefined, operator: GateOperator, threshold: number): GateCondition {
  if (actual === undefined || Number.isNaN(actual)) return { metric, actual: undefined, operator, threshold: String(threshold), status: 'OK' };
  return { metric, actual: String(roundForDisplay(actual)), operator, threshold: String(threshold), status: breaches(actual, operator, threshold) ? 'ERROR' : 'OK' };
}

/** The gate's verdict over its conditions: one ERROR fails it. */
export function gateStatus(conditions: readonly GateCondition[]): GateStatus {
  return conditions.some((c) => c.status === 'ERROR') ? 'ERROR' : 'OK';
}

/** Percentages and ratios keep two decimals; counts stay whole. */
export function roundForDisplay(value: number): number {
  return Number.isInteger(value) ? value : Math.round(value * 100) / 100;
}
