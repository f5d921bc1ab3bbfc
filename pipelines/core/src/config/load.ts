// Loads shipgate.yml into a PipelineSpec, or fails with every problem found, each pointing at its
// file:line:column. The stages, each in its own module: reading the file (pipeline-file.ts), YAML
// with positions and the document's own checks (document.ts), the zod schema's shape and types
// (checks/schema-issues.ts), then the semantic checks: each step (checks/step.ts: run/uses and
// inputs, needs, matrix, timeout, executor), cycles (checks/cycles.ts), and every expression
// (checks/expression-checker.ts). Problems are collected (problems.ts) and thrown together.
import path from 'node:path';
import type { ShipgateError, StepRegistry } from '@shipgate/protocol';
import type { CheckContext } from './checks/context.js';
import { checkCycles } from './checks/cycles.js';
import { checkPipelineExpressions, declaredOutputs, ExpressionChecker } from './checks/expression-checker.js';
import { ExecutorChoices } from './checks/executors.js';
import { reportSchemaIssues } from './checks/schema-issues.js';
import { checkStep, needsList, toStringRecord } from './checks/step.js';
import { readDocument, type PipelineDocument } from './document.js';
import { executorKinds } from './executor.js';
import type { PipelineSpec } from './model.js';
import { readPipelineText } from './pipeline-file.js';
import { pipelineSchema, type RawPipeline } from './schema.js';

export { findPipelineFile } from './pipeline-file.js';

export interface LoadOptions {
  registry: StepRegistry;
  /** Executor kinds `executor:` may name. Default: local, codebuild. */
  executors?: readonly string[];
  /** How messages name the file (e.g. relative to where the user is). Default: `file` as given. */
  displayFile?: string;
  /**
   * Problems that do not stop the pipeline (e.g. a step others read outputs from declares none),
   * each with its file:line:col. Default: dropped.
   */
  onWarning?: (warning: ShipgateError) => void;
}

/** Parses and validates pipeline text. Pure: the file is only used in messages and for `root`. */
export function parsePipeline(text: string, file: string, options: LoadOptions): PipelineSpec {
  return checkDocument(readDocument(text, options.displayFile ?? file), text, file, options);
}

/** The step names `uses:` mentions in a document not checked yet (so their deferred definitions can be loaded first). */
function usedStepNames(raw: unknown): string[] {
  const steps = (raw as { steps?: unknown } | null)?.steps;
  if (!steps || typeof steps !== 'object') return [];
  return Object.values(steps).flatMap((step) => (step && typeof step === 'object' && typeof (step as { uses?: unknown }).uses === 'string' ? [(step as { uses: string }).uses] : []));
}

function checkDocument({ raw, problems, pos }: PipelineDocument, text: string, file: string, options: LoadOptions): PipelineSpec {
  // jitless: zod would compile a parser for each object schema (new Function) on its first use; a
  // pipeline file is checked once per process, so compiling costs more than it saves (some 7 ms)
  const parsed = pipelineSchema.safeParse(raw, { jitless: true });
  if (!parsed.success) {
    reportSchemaIssues(parsed.error.issues, raw, pos, problems);
    problems.throwIfAny();
  }
  const pipeline = parsed.data as RawPipeline;
  const ids = Object.keys(pipeline.steps);
  if (ids.length === 0) problems.add('config.type', 'steps: a pipeline needs at least one step', pos.key(['steps']));
  const executors = new ExecutorChoices(options.executors ?? executorKinds, problems, pos);
  const pipelineExecutor = executors.name(pipeline.executor, 'executor: ', ['executor']);
  const needsOf = new Map(ids.map((id) => [id, needsList(pipeline.steps[id]!)]));
  const ctx: CheckContext = { problems, pos, registry: options.registry, file, executors, ids, needsOf };

  const steps = ids.map((id) => checkStep(id, pipeline.steps[id]!, ctx));
  checkCycles(pipeline, ctx);
  const checker = new ExpressionChecker(problems, pos, text, ids, needsOf, declaredOutputs(pipeline, options.registry));
  checkPipelineExpressions(checker, pipeline, steps);
  if (problems.list.length === 0) for (const warning of checker.undeclaredReads()) options.onWarning?.(warning);

  problems.throwIfAny();
  return {
    name: pipeline.name,
    file: path.resolve(file),
    root: path.dirname(path.resolve(file)),
    env: toStringRecord(pipeline.env),
    steps,
    ...(pipelineExecutor !== undefined ? { executor: pipelineExecutor } : {}),
    ...(pipeline['cache-url'] !== undefined ? { cacheUrl: pipeline['cache-url'] } : {}),
    ...(Object.keys(executors.configs).length ? { executors: executors.configs } : {}),
  };
}

export async function loadPipeline(file: string, options: LoadOptions): Promise<PipelineSpec> {
  const text = await readPipelineText(file, options.displayFile ?? file);
  const document = readDocument(text, options.displayFile ?? file);
  await options.registry.ready(usedStepNames(document.raw));
  return checkDocument(document, text, file, options);
}
