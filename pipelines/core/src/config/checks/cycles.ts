// Pipeline-level check of the needs graph: each group of steps that need each other is one problem,
// at the needs: entry that closes the cycle (a 700-step complete graph used to print 542 MB of cycles).
import { cycleText, findCycles } from '../graph.js';
import type { RawPipeline } from '../schema.js';
import type { CheckContext } from './context.js';
import { needPath } from './step.js';

export function checkCycles(pipeline: RawPipeline, ctx: CheckContext): void {
  for (const { step, needIndex, cycle } of findCycles(ctx.ids, ctx.needsOf)) {
    const at = needPath(step, pipeline.steps[step]!, needIndex);
    const message = cycle.length === 2 ? `step "${step}" needs itself` : `step "${step}" needs "${cycle[cycle.length - 1]}", which closes a cycle: ${cycleText(cycle)} (each needs the next)`;
    ctx.problems.add('config.cycle', message, ctx.pos.value(at) ?? ctx.pos.key(['steps', step]), `remove this need, or another need of the cycle`);
  }
}
