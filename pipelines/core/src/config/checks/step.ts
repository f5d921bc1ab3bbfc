// Per-step validation: one raw step of shipgate.yml becomes a StepSpec, with every problem recorded
// at its position: what it runs (run/uses and inputs), needs, matrix, timeout, executor and
// working directory. Expressions are checked later, once every step's needs and matrix are known.
import path from 'node:path';
import { didYouMean, listNames, parseDuration, type ShipgateError } from '@shipgate/protocol';
import type { Path } from '../key-path.js';
import type { MatrixSpec, StepSpec } from '../model.js';
import type { RawStep } from '../schema.js';
import type { CheckContext } from './context.js';
import { checkMatrix } from './matrix.js';
import { checkRunOrUses } from './uses.js';

export function toStringRecord(env: Record<string, string | number | boolean> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(env ?? {}).map(([k, v]) => [k, String(v)]));
}

/** `needs:` as a list, whether written as one name or a list. */
export function needsList(step: RawStep): string[] {
  return step.needs === undefined ? [] : typeof step.needs === 'string' ? [step.needs] : step.needs;
}

/** Where the `i`-th need is written: the `needs:` value itself when it is one name. */
export function needPath(id: string, step: RawStep, i: number): Path {
  return typeof step.needs === 'string' ? ['steps', id, 'needs'] : ['steps', id, 'needs', i];
}

function checkNeeds(id: string, step: RawStep, base: Path, ctx: CheckContext): void {
  for (const [i, need] of ctx.needsOf.get(id)!.entries()) {
    if (!ctx.needsOf.has(need)) {
      ctx.problems.add('config.unknown-need', () => `step "${id}" needs "${need}", which is not a step${didYouMean(need, ctx.ids)}`, ctx.pos.value(needPath(id, step, i)) ?? ctx.pos.key(base), `steps: ${listNames(ctx.ids)}`);
    }
  }
}

/** `timeout:` in milliseconds, or undefined when there is none or it is not a duration (recorded). */
function checkTimeout(id: string, step: RawStep, base: Path, ctx: CheckContext): number | undefined {
  if (step.timeout === undefined) return undefined;
  try {
    return parseDuration(step.timeout);
  } catch (error) {
    ctx.problems.add('config.duration', `step "${id}": timeout ${(error as ShipgateError).message}`, ctx.pos.value([...base, 'timeout']) ?? ctx.pos.key(base), (error as ShipgateError).hint);
    return undefined;
  }
}

function checkWorkingDirectory(id: string, step: RawStep, base: Path, ctx: CheckContext): void {
  if (step['working-directory'] !== undefined && path.isAbsolute(step['working-directory'])) {
    ctx.problems.add('config.type', `step "${id}": working-directory must be relative to ${path.basename(ctx.file)}`, ctx.pos.value([...base, 'working-directory']) ?? ctx.pos.key(base));
  }
}

/** The step as a spec; its problems go to ctx.problems (the spec is only used if there are none). */
export function checkStep(id: string, step: RawStep, ctx: CheckContext): StepSpec {
  const base: Path = ['steps', id];
  checkRunOrUses(id, step, base, ctx);
  checkNeeds(id, step, base, ctx);
  const matrix: MatrixSpec | undefined = step.matrix ? checkMatrix(id, step.matrix, base, ctx) : undefined;
  const timeoutMs = checkTimeout(id, step, base, ctx);
  const executor = ctx.executors.name(step.executor, `step "${id}": `, [...base, 'executor']);
  checkWorkingDirectory(id, step, base, ctx);
  return {
    id,
    uses: step.uses ?? 'run',
    with: step.run !== undefined ? { script: step.run } : (step.with ?? {}),
    needs: ctx.needsOf.get(id)!,
    ...(matrix ? { matrix } : {}),
    env: toStringRecord(step.env),
    ...(step.if !== undefined ? { if: String(step.if) } : {}),
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    retries: step.retries ?? 0,
    continueOnError: step['continue-on-error'] ?? false,
    ...(step['working-directory'] !== undefined ? { workingDirectory: step['working-directory'] } : {}),
    outputs: step.outputs ?? [],
    ...(step.cache ? { cache: { inputs: step.cache.inputs, ...(step.cache.outputs ? { outputs: step.cache.outputs } : {}) } } : {}),
    ...(step.artifacts ? { artifacts: step.artifacts } : {}),
    ...(executor !== undefined ? { executor } : {}),
    location: ctx.problems.at(ctx.pos.key(base)),
  };
}
