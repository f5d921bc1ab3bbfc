// Planning: which invocations run, what waits for what, which steps start together (levels), and
// the critical path. Pure: a function of the PipelineSpec and the selection flags.
import { ShipgateError } from '../errors.js';
import type { MatrixCombination, PipelineSpec, StepSpec } from '../config/model.js';
import { didYouMean } from '../config/suggest.js';
import { expandMatrix, invocationId } from './matrix.js';

export interface PlanNode {
  /** `build` or `build[target=api]`. */
  readonly id: string;
  readonly stepId: string;
  readonly step: StepSpec;
  readonly matrix?: MatrixCombination;
}

export interface Plan {
  readonly pipeline: PipelineSpec;
  /** Steps that run, in file order. */
  readonly steps: readonly StepSpec[];
  readonly nodes: readonly PlanNode[];
  /** Step ids by depth: every step of a level can start once the levels before it are done. */
  readonly levels: readonly (readonly string[])[];
  /** Needs outside the selection (`--only`, `--from`): their outputs come from the cache. */
  readonly restored: readonly string[];
}

export interface PlanOptions {
  only?: readonly string[];
  from?: string;
}

function checkNames(spec: PipelineSpec, names: readonly string[], flag: string): void {
  const ids = spec.steps.map((s) => s.id);
  for (const name of names) {
    if (!ids.includes(name)) {
      throw new ShipgateError('plan.unknown-step', `${flag}: "${name}" is not a step of ${spec.name}${didYouMean(name, ids)}`, { hint: `steps: ${ids.join(', ')}` });
    }
  }
}

export function planPipeline(spec: PipelineSpec, options: PlanOptions = {}): Plan {
  const byId = new Map(spec.steps.map((s) => [s.id, s]));
  let selected = new Set(spec.steps.map((s) => s.id));
  if (options.from !== undefined) {
    checkNames(spec, [options.from], '--from');
    // the step and everything downstream of it
    selected = new Set([options.from]);
    for (let changed = true, rounds = 0; changed && rounds <= spec.steps.length; rounds += 1) {
      changed = false;
      for (const s of spec.steps) {
        if (!selected.has(s.id) && s.needs.some((n) => selected.has(n))) {
          selected.add(s.id);
          changed = true;
        }
      }
    }
  }
  if (options.only && options.only.length) {
    checkNames(spec, options.only, '--only');
    selected = new Set([...selected].filter((id) => options.only!.includes(id)));
  }
  const steps = spec.steps.filter((s) => selected.has(s.id));
  const restored = [...new Set(steps.flatMap((s) => s.needs.filter((n) => !selected.has(n))))];

  // levels: longest path from a root, counting only selected needs
  const depth = new Map<string, number>();
  const depthOf = (id: string, guard: number): number => {
    const known = depth.get(id);
    if (known !== undefined) return known;
    if (guard > spec.steps.length) throw new ShipgateError('plan.cycle', `steps depend on each other in a cycle through "${id}"`);
    const needs = byId.get(id)!.needs.filter((n) => selected.has(n));
    const d = needs.length ? 1 + Math.max(...needs.map((n) => depthOf(n, guard + 1))) : 0;
    depth.set(id, d);
    return d;
  };
  const levels: string[][] = [];
  for (const s of steps) {
    const d = depthOf(s.id, 0);
    (levels[d] ??= []).push(s.id);
  }

  const nodes: PlanNode[] = steps.flatMap((step) => {
    if (!step.matrix) return [{ id: step.id, stepId: step.id, step }];
    return expandMatrix(step.matrix).map((matrix) => ({ id: invocationId(step.id, matrix), stepId: step.id, step, matrix }));
  });
  return { pipeline: spec, steps, nodes, levels: levels.filter(Boolean), restored };
}

/**
 * The longest chain of dependent steps, weighted by `durationsMs` (a step's duration; missing
 * steps weigh 0). This is the least wall time any scheduler can reach.
 */
export function criticalPath(plan: Plan, durationsMs: Readonly<Record<string, number>>): { path: string[]; totalMs: number } {
  const selected = new Set(plan.steps.map((s) => s.id));
  const best = new Map<string, { total: number; path: string[] }>();
  for (const level of plan.levels) {
    for (const id of level) {
      const step = plan.steps.find((s) => s.id === id)!;
      let before = { total: 0, path: [] as string[] };
      for (const need of step.needs) {
        const candidate = selected.has(need) ? best.get(need) : undefined;
        if (candidate && candidate.total > before.total) before = candidate;
      }
      best.set(id, { total: before.total + (durationsMs[id] ?? 0), path: [...before.path, id] });
    }
  }
  let result = { total: 0, path: [] as string[] };
  for (const entry of best.values()) if (entry.total > result.total || result.path.length === 0) result = entry;
  return { path: result.path, totalMs: result.total };
}
