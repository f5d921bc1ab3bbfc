// What a step runs: exactly one of `run:` (a script) or `uses:` (a registered step), `with:` only
// beside `uses:`, and the `with:` inputs checked against the registered step's own schema, leaving
// out values that are expressions (those are only known at run time).
import type { z } from 'zod';
import { didYouMean, listNames, type StepDefinition } from '@shipgate/protocol';
import { pathText, valueAt, type Path } from '../key-path.js';
import { plainIssueMessage } from '../messages.js';
import type { RawStep } from '../schema.js';
import type { CheckContext } from './context.js';
import { describeValue } from './schema-issues.js';

/** Drops zod issues about values that are expressions: they are only known at run time. */
function issuesOutsideExpressions(issues: readonly z.core.$ZodIssue[], value: unknown): z.core.$ZodIssue[] {
  return issues.filter((issue) => {
    const v = valueAt(value, issue.path as Path);
    return !(typeof v === 'string' && v.includes('${{'));
  });
}

/** One zod issue of a step's inputs as problems: unknown inputs (each with a did-you-mean), a missing or a wrong one. */
function reportInputIssue(issue: z.core.$ZodIssue, id: string, step: RawStep, def: StepDefinition, base: Path, ctx: CheckContext): void {
  const input = step.with ?? {};
  const p = issue.path as Path;
  const got = valueAt(input, p);
  const field = p.length ? pathText(p) : '(inputs)';
  if (issue.code === 'unrecognized_keys') {
    const known = Object.keys((def.inputs as unknown as { shape?: Record<string, unknown> }).shape ?? {});
    for (const key of issue.keys) {
      ctx.problems.add('config.step-input', `step "${id}": ${step.uses} has no input "${key}"${didYouMean(key, known)}`, ctx.pos.key([...base, 'with', ...p, key]), known.length ? `inputs of ${step.uses}: ${known.join(', ')}` : undefined);
    }
    return;
  }
  const message = got === undefined ? `step "${id}": ${step.uses} needs the input "${field}"` : `step "${id}": input ${field}: ${plainIssueMessage(issue, { pipelineField: false })} (got ${describeValue(got)})`;
  const at = got === undefined ? ctx.pos.key(step.with ? [...base, 'with'] : base) : (ctx.pos.value([...base, 'with', ...p]) ?? ctx.pos.key([...base, 'with', ...p]));
  ctx.problems.add('config.step-input', message, at, `see \`shipgate steps\` and the ${step.uses} docs`);
}

/** `uses:` names a registered step, and `with:` fits that step's inputs. */
function checkUses(id: string, step: RawStep & { uses: string }, base: Path, ctx: CheckContext): void {
  const def = ctx.registry.get(step.uses);
  if (!def) {
    ctx.problems.add('config.unknown-step', `step "${id}": no step named "${step.uses}"${didYouMean(step.uses, ctx.registry.names())}`, ctx.pos.value([...base, 'uses']) ?? ctx.pos.key(base), `registered steps: ${listNames(ctx.registry.names(), 16)}`);
    return;
  }
  const input = step.with ?? {};
  const result = def.inputs.safeParse(input, { jitless: true }); // checked once: see load.ts
  if (result.success) return;
  for (const issue of issuesOutsideExpressions(result.error.issues, input)) reportInputIssue(issue, id, step, def, base, ctx);
}

export function checkRunOrUses(id: string, step: RawStep, base: Path, ctx: CheckContext): void {
  if ((step.run === undefined) === (step.uses === undefined)) {
    ctx.problems.add('config.run-and-uses', `step "${id}" needs exactly one of run: or uses:${step.run !== undefined ? ' (it has both)' : ''}`, ctx.pos.key(base), 'run: a shell script, or uses: a registered step (shipgate steps lists them)');
  }
  if (step.run !== undefined && step.with !== undefined) {
    ctx.problems.add('config.unknown-key', `step "${id}": with: goes with uses:, not run:`, ctx.pos.key([...base, 'with']), 'pass values to a script through env:');
  }
  if (step.uses !== undefined) checkUses(id, step as RawStep & { uses: string }, base, ctx);
}
