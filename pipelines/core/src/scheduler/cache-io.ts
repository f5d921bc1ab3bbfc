// The driver's side of the step cache: compute an invocation's key and look it up before it runs,
// record its success after. A key that cannot be computed is not an error: the step runs uncached.
import path from 'node:path';
import { computeCacheKey } from '../cache/keys.js';
import type { StepCache } from '../cache/step-cache.js';
import type { StartedInvocation } from './records.js';

type Mask = (outputs: Readonly<Record<string, string>>) => Record<string, string>;

/** Looks the invocation up; on a hit its files are back in place and `run.cacheHit` says what came back. */
export async function lookUpCache(cache: StepCache, run: StartedInvocation, workspace: string, upstream: Record<string, Readonly<Record<string, string>>>): Promise<boolean> {
  const { node, logger } = run;
  const invocation = run.invocation!;
  const cwd = path.resolve(workspace, invocation.workingDirectory);
  run.cache = { cwd, files: 0 };
  try {
    const computed = await computeCacheKey({
      uses: invocation.uses,
      with: invocation.with,
      workingDirectory: invocation.workingDirectory,
      matrix: node.matrix,
      env: invocation.env,
      upstream,
      inputs: node.step.cache!.inputs,
      ...(node.step.cache!.outputs ? { outputs: node.step.cache!.outputs } : {}),
      cwd,
    });
    run.cache = { cwd, key: computed.key, files: computed.files };
    for (const glob of computed.unmatched) logger.warn(`cache: inputs glob "${glob}" matched no file`);
    const hit = await cache.lookup(node.stepId, computed.key, node.id, cwd, logger);
    if (!hit) return false;
    const files = hit.written + hit.unchanged;
    const reason = `inputs unchanged since ${hit.entry.at}${hit.from === 'shared' ? ' (shared cache)' : ''}${files > 0 ? `; ${files} output files restored (${hit.written} copied back)` : ''}`;
    run.cacheHit = { outputs: hit.entry.outputs, reason, durationMs: performance.now() - run.t0 };
    return true;
  } catch (error) {
    logger.warn(`cache: could not compute the key (${(error as Error).message}); running the step`);
    run.cache = { cwd, files: 0 };
    return false;
  }
}

/** After a success: warns about declared outputs left unset, and records the success under its cache key. */
export async function recordSuccess(cache: StepCache, run: StartedInvocation, outputs: Record<string, string>, mask: Mask): Promise<void> {
  const { node, logger } = run;
  const missing = node.step.outputs.filter((name) => !(name in outputs));
  if (missing.length) logger.warn(`declared outputs not set: ${missing.join(', ')}`);
  const key = run.cache?.key;
  if (!key) return;
  const holdsSecret = Object.entries(mask(outputs)).some(([k, v]) => v !== outputs[k]);
  if (holdsSecret) return logger.warn('cache: not recording this success, because an output holds a secret');
  const entry = { key, invocation: node.id, outputs, at: new Date().toISOString(), files: run.cache!.files };
  await cache.save(node.stepId, entry, run.cache!.cwd, node.step.cache?.outputs, logger).catch((error: Error) => logger.warn(`cache: could not record this success (${error.message})`));
}
