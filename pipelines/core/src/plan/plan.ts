// Planning: which invocations run, what waits for what, which steps start together (levels), and
// the critical path. Pure: a function of the PipelineSpec and the selection flags.
import { ShipgateError } from '@shipgate/protocol';
import type { MatrixCombination, PipelineSpec, StepSpec } from '../config/model.js';
import { didYouMean } from '@shipgate/protocol';
import { listNames } from '@shipgate/protocol';
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
      throw new ShipgateError('plan.unknown-step', `${flag}: "${name}" is not a step of ${spec.name}${didYouMean(name, ids)}`, { hint: `steps: ${listNames(ids)}` });
    }
  }
}

export function planPipeline(spec: PipelineSpec, options: PlanOptions = {}): Plan {
  let selected = new Set(spec.steps.map((s) => s.id));
  if (options.from !== undefined) {
    checkNames(spec, [options.from], '--from');
    // the step and everything downstream of it (breadth-first over dependents: linear time)
    const dependents = new Map<string, string[]>();
    for (const s of spec.steps) for (const n of s.needs) (dependents.get(n) ?? dependents.set(n, []).get(n)!).push(s.id);
    const queue = [options.from];
    selected = new Set(queue);
    for (let i = 0; i < queue.length; i += 1) {
      for (const dep of dependents.get(queue[i]!) ?? []) {
        if (!selected.has(dep)) {
          selected.add(dep);
          queue.push(dep);
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

  // levels: longest path from a root, counting only selected needs. Kahn's order, no recursion:
  // a 20,000-step chain is planned in linear time instead of overflowing the stack.
  const levels = levelsOf(steps, selected);

  const nodes: PlanNode[] = steps.flatMap((step) => {
    if (!step.matrix) return [{ id: step.id, stepId: step.id, step }];
    return expandMatrix(step.matrix).map((matrix) => ({ id: invocationId(step.id, matrix), stepId: step.id, step, matrix }));
  });
  return { pipeline: spec, steps, nodes, levels: levels.filter(Boolean), restored };
}

function levelsOf(steps: readonly StepSpec[], selected: ReadonlySet<string>): string[][] {
  const waiting = new Map<string, number>();
  const dependents = new Map<string, string[]>();
  for (const s of steps) {
    const needs = [...new Set(s.needs.filter((n) => selected.has(n)))];
    waiting.set(s.id, needs.length);
    for (const n of needs) {
      const list = dependents.get(n);
      if (list) list.push(s.id);
      else dependents.set(n, [s.id]);
    }
  }
  const depth = new Map<string, number>();
  const queue = steps.filter((s) => waiting.get(s.id) === 0).map((s) => s.id);
  for (const id of queue) depth.set(id, 0);
  for (let i = 0; i < queue.length; i += 1) {
    const id = queue[i]!;
    for (const dep of dependents.get(id) ?? []) {
      depth.set(dep, Math.max(depth.get(dep) ?? 0, depth.get(id)! + 1));
      const left = waiting.get(dep)! - 1;
      waiting.set(dep, left);
      if (left === 0) queue.push(dep);
    }
  }
  const levels: string[][] = [];
  for (const s of steps) {
    const d = depth.get(s.id);
    if (d === undefined) throw new ShipgateError('plan.cycle', `steps depend on each other in a cycle through "${s.id}"`, { hint: 'shipgate validate shows the cycle' });
    (levels[d] ??= []).push(s.id);
  }
  return levels;
}

/**
 * The longest chain of dependent steps, weighted by `durationsMs` (a step's duration; missing
 * steps weigh 0). This is the least wall time any scheduler can reach.
 */
export function criticalPath(plan: Plan, durationsMs: Readonly<Record<string, number>>): { path: string[]; totalMs: number } {
  const selected = new Set(plan.steps.map((s) => s.id));
  const byId = new Map(plan.steps.map((s) => [s.id, s]));
  const best = new Map<string, { total: number; path: string[] }>();
  for (const level of plan.levels) {
    for (const id of level) {
      const step = byId.get(id)!;
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
