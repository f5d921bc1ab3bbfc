// Loads shipgate.yml into a PipelineSpec, or fails with every problem found, each pointing at its
// file:line:column. Parsing keeps YAML positions (the `yaml` package's CST), the zod schema checks
// shape and types, then the semantic checks: steps, needs, cycles, matrices, expressions, inputs.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { isMap, isPair, isScalar, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import { ExitCode, ShipgateError, type SourceLocation } from '../errors.js';
import type { StepRegistry } from '../steps/registry.js';
import { ExpressionSyntaxError, expressionReferences, findExpressions, parseCondition, parseExpression } from './expressions.js';
import type { MatrixSpec, MatrixValue, PipelineSpec, StepSpec } from './model.js';
import { pipelineKeys, pipelineSchema, stepKeys, type RawPipeline, type RawStep } from './schema.js';
import { closest, didYouMean } from './suggest.js';
import { expandMatrix } from '../engine/matrix.js';
import { executorKinds, resolveExecutor } from './executor.js';
import type { ExecutorConfig } from './model.js';
import { codebuildExecutorKeys } from './schema.js';

export interface LoadOptions {
  registry: StepRegistry;
  /** Executor kinds `executor:` may name. Default: local, codebuild. */
  executors?: readonly string[];
  /** How messages name the file (e.g. relative to where the user is). Default: `file` as given. */
  displayFile?: string;
}

const defaultFiles = ['shipgate.yml', 'shipgate.yaml'];

/** The pipeline file for `dir` (or `file`, relative to it). Throws config.not-found. */
export function findPipelineFile(dir: string, file?: string): string {
  if (file) {
    const resolved = path.resolve(dir, file);
    if (!existsSync(resolved)) throw new ShipgateError('config.not-found', `${file}: no such file`, { hint: `looked in ${dir}` });
    return resolved;
  }
  for (const name of defaultFiles) {
    const candidate = path.join(dir, name);
    if (existsSync(candidate)) return candidate;
  }
  throw new ShipgateError('config.not-found', `no shipgate.yml in ${dir}`, { hint: 'create one (see the pipelines README), or point at it with -C <dir> or -f <file>' });
}

/** Parses a duration: `500ms`, `90s`, `10m`, `1h30m`, `2h`. Returns milliseconds. */
export function parseDuration(text: string): number {
  const trimmed = text.trim();
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let matched = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(trimmed))) {
    total += Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
    matched = re.lastIndex;
  }
  if (matched === 0 || matched !== trimmed.length || total <= 0) {
    throw new ShipgateError('config.duration', `"${text}" is not a duration`, { hint: 'write it with units: 500ms, 90s, 10m, 1h30m' });
  }
  return Math.round(total);
}

class Problems {
  readonly list: ShipgateError[] = [];
  constructor(
    readonly file: string,
    readonly lineCounter: LineCounter,
  ) {}

  at(offset: number): SourceLocation {
    const pos = this.lineCounter.linePos(offset);
    return { file: this.file, line: pos.line, column: pos.col };
  }

  add(code: string, message: string, offset: number, hint?: string): void {
    this.list.push(new ShipgateError(code, message, { location: this.at(offset), exitCode: ExitCode.usage, ...(hint ? { hint } : {}) }));
  }

  throwIfAny(): void {
    if (this.list.length === 0) return;
    const sorted = [...this.list].sort((a, b) => a.location!.line - b.location!.line || a.location!.column - b.location!.column);
    const [first, ...rest] = sorted;
    throw new ShipgateError(first!.code, first!.message, {
      location: first!.location!,
      ...(first!.hint ? { hint: first!.hint } : {}),
      exitCode: ExitCode.usage,
      related: rest,
    });
  }
}

type Path = readonly (string | number)[];

/** Positions in the YAML source for a path of keys. */
class Positions {
  constructor(private readonly doc: Document) {}

  value(p: Path): number | undefined {
    const node = this.doc.getIn(p, true) as Node | undefined;
    return node?.range?.[0];
  }

  /** The key node of the last segment (for unknown keys), else the value, else the nearest parent. */
  key(p: Path): number {
    const parent = p.length ? (this.doc.getIn(p.slice(0, -1), true) as Node | undefined) : this.doc.contents;
    if (parent && isMap(parent)) {
      for (const item of parent.items) {
        if (isPair(item) && isScalar(item.key) && String(item.key.value) === String(p[p.length - 1])) {
          return item.key.range?.[0] ?? 0;
        }
      }
    }
    return this.nearest(p);
  }

  nearest(p: Path): number {
    for (let n = p.length; n >= 0; n -= 1) {
      const offset = n === 0 ? (this.doc.contents as Node | null)?.range?.[0] : this.value(p.slice(0, n));
      if (offset !== undefined) return offset;
    }
    return 0;
  }

  /** Offset of the `index`-th `${{` inside the value at p, so an expression error points into the string. */
  expression(p: Path, index: number, source: string): number {
    const node = this.doc.getIn(p, true) as Node | undefined;
    const range = node?.range;
    if (!range) return this.nearest(p);
    let at = range[0] - 1;
    for (let k = 0; k <= index; k += 1) {
      at = source.indexOf('${{', at + 1);
      if (at === -1 || at > range[1]) return range[0];
    }
    return at;
  }
}

function pathText(p: Path): string {
  return p.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');
}

function allowedKeysFor(p: Path): readonly string[] | undefined {
  if (p.length === 0) return pipelineKeys;
  if (p.length === 2 && p[0] === 'steps') return stepKeys;
  if (p.length === 3 && p[0] === 'steps' && p[2] === 'cache') return ['inputs', 'outputs'];
  const last = p.length >= 2 ? p.slice(-2).join('.') : '';
  if (last === 'executor.codebuild' && (p.length === 2 || (p.length === 4 && p[0] === 'steps'))) return codebuildExecutorKeys;
  return undefined;
}

function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return JSON.stringify(v);
}

function valueAt(root: unknown, p: Path): unknown {
  let v = root;
  for (const s of p) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[s as string] : undefined;
  return v;
}

/**
 * A union (such as `executor: local | { codebuild: … }`) fails as one vague "Invalid input". When
 * only one of its branches has the right shape, that branch's own issues say what is wrong.
 */
function unwrapUnions(issues: readonly z.core.$ZodIssue[]): z.core.$ZodIssue[] {
  return issues.flatMap((issue) => {
    if (issue.code !== 'invalid_union') return [issue];
    const shaped = issue.errors.filter((errors) => !errors.some((e) => e.code === 'invalid_type' && e.path.length === 0));
    if (shaped.length !== 1) return [issue];
    return unwrapUnions(shaped[0]!.map((e) => ({ ...e, path: [...issue.path, ...e.path] }) as z.core.$ZodIssue));
  });
}

function reportSchemaIssues(all: readonly z.core.$ZodIssue[], raw: unknown, pos: Positions, problems: Problems): void {
  const issues = unwrapUnions(all);
  // "unknown key stepz — did you mean steps?" already says what "steps is required" would say
  const misspelt = new Set<string>();
  for (const issue of issues) {
    if (issue.code !== 'unrecognized_keys') continue;
    for (const key of issue.keys) {
      const meant = closest(key, allowedKeysFor(issue.path as Path) ?? []);
      if (meant) misspelt.add(pathText([...(issue.path as Path), meant]));
    }
  }
  for (const issue of issues) {
    if (issue.code !== 'unrecognized_keys' && valueAt(raw, issue.path as Path) === undefined && misspelt.has(pathText(issue.path as Path))) continue;
    const p = issue.path as Path;
    if (issue.code === 'unrecognized_keys') {
      const allowed = allowedKeysFor(p) ?? [];
      for (const key of issue.keys) {
        const where = p.length === 0 ? 'at the top level' : `in ${pathText(p)}`;
        problems.add('config.unknown-key', `unknown key "${key}" ${where}${didYouMean(key, allowed)}`, pos.key([...p, key]), allowed.length ? `allowed keys: ${allowed.join(', ')}` : undefined);
      }
      continue;
    }
    const got = valueAt(raw, p);
    const missing = got === undefined;
    const message = missing ? `${pathText(p)} is required` : `${pathText(p)}: ${issue.message} (got ${describeValue(got)})`;
    problems.add('config.type', message, missing ? pos.nearest(p) : (pos.value(p) ?? pos.key(p)));
  }
}

function toStringRecord(env: Record<string, string | number | boolean> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(env ?? {}).map(([k, v]) => [k, String(v)]));
}

function matrixSpec(raw: NonNullable<RawStep['matrix']>): MatrixSpec {
  const { include, exclude, 'max-parallel': maxParallel, ...axes } = raw;
  return {
    axes: axes as Record<string, MatrixValue[]>,
    include: include ?? [],
    exclude: exclude ?? [],
    ...(maxParallel === undefined ? {} : { maxParallel }),
  };
}

/** Strings inside a value, with their paths, for expression checks. */
function* stringsIn(value: unknown, p: Path): Generator<[string, Path]> {
  if (typeof value === 'string') yield [value, p];
  else if (Array.isArray(value)) for (const [i, v] of value.entries()) yield* stringsIn(v, [...p, i]);
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) yield* stringsIn(v, [...p, k]);
}

/** Drops zod issues about values that are expressions: they are only known at run time. */
function issuesOutsideExpressions(issues: readonly z.core.$ZodIssue[], value: unknown): z.core.$ZodIssue[] {
  return issues.filter((issue) => {
    const v = valueAt(value, issue.path as Path);
    return !(typeof v === 'string' && v.includes('${{'));
  });
}

/** Parses and validates pipeline text. Pure: the file is only used in messages and for `root`. */
export function parsePipeline(text: string, file: string, options: LoadOptions): PipelineSpec {
  const executorKindsAllowed = options.executors ?? executorKinds;
  const executorConfigs: Record<string, ExecutorConfig> = {};
  /** The executor's name for the spec, or undefined after recording why it is not usable. */
  const executorName = (raw: RawStep['executor'], where: string, p: Path): string | undefined => {
    if (raw === undefined) return undefined;
    const resolved = resolveExecutor(raw, executorKindsAllowed);
    if (!resolved.ok) {
      problems.add('config.executor', `${where}${resolved.message}`, pos.value(p) ?? pos.key(p), resolved.hint);
      return undefined;
    }
    executorConfigs[resolved.name] = resolved.config;
    return resolved.name;
  };
  const displayFile = options.displayFile ?? file;
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const problems = new Problems(displayFile, lineCounter);
  for (const error of doc.errors) {
    const code = error.code === 'DUPLICATE_KEY' ? 'config.duplicate-key' : 'config.yaml';
    problems.add(code, error.message.split('\n')[0]!, error.pos[0]);
  }
  problems.throwIfAny();
  const raw: unknown = doc.toJS({ maxAliasCount: 100 });
  const pos = new Positions(doc);
  if (raw === null || raw === undefined) {
    throw new ShipgateError('config.empty', `${displayFile} is empty`, { location: { file: displayFile, line: 1, column: 1 }, hint: 'a pipeline needs at least `name:` and `steps:`' });
  }
  const parsed = pipelineSchema.safeParse(raw);
  if (!parsed.success) {
    reportSchemaIssues(parsed.error.issues, raw, pos, problems);
    problems.throwIfAny();
  }
  const pipeline = parsed.data as RawPipeline;
  const ids = Object.keys(pipeline.steps);
  if (ids.length === 0) problems.add('config.type', 'steps: a pipeline needs at least one step', pos.key(['steps']));
  const pipelineExecutor = executorName(pipeline.executor, 'executor: ', ['executor']);

  const needsOf = new Map<string, string[]>();
  for (const id of ids) {
    const step = pipeline.steps[id]!;
    needsOf.set(id, step.needs === undefined ? [] : typeof step.needs === 'string' ? [step.needs] : step.needs);
  }

  const steps: StepSpec[] = [];
  for (const id of ids) {
    const step = pipeline.steps[id]!;
    const base: Path = ['steps', id];
    const needs = needsOf.get(id)!;

    // run: or uses:
    if ((step.run === undefined) === (step.uses === undefined)) {
      problems.add('config.run-and-uses', `step "${id}" needs exactly one of run: or uses:${step.run !== undefined ? ' (it has both)' : ''}`, pos.key(base), 'run: a shell script, or uses: a registered step (shipgate steps lists them)');
    }
    if (step.run !== undefined && step.with !== undefined) {
      problems.add('config.unknown-key', `step "${id}": with: goes with uses:, not run:`, pos.key([...base, 'with']), 'pass values to a script through env:');
    }
    if (step.uses !== undefined) {
      const def = options.registry.get(step.uses);
      if (!def) {
        problems.add('config.unknown-step', `step "${id}": no step named "${step.uses}"${didYouMean(step.uses, options.registry.names())}`, pos.value([...base, 'uses']) ?? pos.key(base), `registered steps: ${options.registry.names().join(', ')}`);
      } else {
        const input = step.with ?? {};
        const result = def.inputs.safeParse(input);
        if (!result.success) {
          for (const issue of issuesOutsideExpressions(result.error.issues, input)) {
            const p = issue.path as Path;
            const got = valueAt(input, p);
            const field = p.length ? pathText(p) : '(inputs)';
            if (issue.code === 'unrecognized_keys') {
              const known = Object.keys((def.inputs as unknown as { shape?: Record<string, unknown> }).shape ?? {});
              for (const key of issue.keys) {
                problems.add('config.step-input', `step "${id}": ${step.uses} has no input "${key}"${didYouMean(key, known)}`, pos.key([...base, 'with', ...p, key]), known.length ? `inputs of ${step.uses}: ${known.join(', ')}` : undefined);
              }
              continue;
            }
            const message = got === undefined ? `step "${id}": ${step.uses} needs the input "${field}"` : `step "${id}": input ${field}: ${issue.message} (got ${describeValue(got)})`;
            problems.add('config.step-input', message, got === undefined ? pos.key(step.with ? [...base, 'with'] : base) : (pos.value([...base, 'with', ...p]) ?? pos.key([...base, 'with', ...p])), `see \`shipgate steps\` and the ${step.uses} docs`);
          }
        }
      }
    }

    // needs
    for (const [i, need] of needs.entries()) {
      const needPath = typeof step.needs === 'string' ? [...base, 'needs'] : [...base, 'needs', i];
      if (!needsOf.has(need)) {
        problems.add('config.unknown-need', `step "${id}" needs "${need}", which is not a step${didYouMean(need, ids)}`, pos.value(needPath) ?? pos.key(base), `steps: ${ids.join(', ')}`);
      }
    }

    // matrix
    let matrix: MatrixSpec | undefined;
    if (step.matrix) {
      matrix = matrixSpec(step.matrix);
      const axes = Object.keys(matrix.axes);
      if (axes.length === 0 && matrix.include.length === 0) {
        problems.add('config.matrix', `step "${id}": the matrix has no axes`, pos.key([...base, 'matrix']), 'write axes as lists: matrix: { target: [api, worker] }');
      }
      for (const [i, combo] of matrix.exclude.entries()) {
        for (const key of Object.keys(combo)) {
          if (!axes.includes(key)) {
            problems.add('config.matrix', `step "${id}": exclude[${i}] names "${key}", which is not an axis${didYouMean(key, axes)}`, pos.key([...base, 'matrix', 'exclude', i, key]), `axes: ${axes.join(', ') || '(none)'}`);
          }
        }
      }
      if ((axes.length > 0 || matrix.include.length > 0) && expandMatrix(matrix).length === 0) {
        problems.add('config.matrix', `step "${id}": exclude removes every combination, so the step would never run`, pos.key([...base, 'matrix', 'exclude']), 'remove an exclude entry, or the step');
      }
    }

    // timeout
    let timeoutMs: number | undefined;
    if (step.timeout !== undefined) {
      try {
        timeoutMs = parseDuration(step.timeout);
      } catch (error) {
        problems.add('config.duration', `step "${id}": timeout ${(error as ShipgateError).message}`, pos.value([...base, 'timeout']) ?? pos.key(base), (error as ShipgateError).hint);
      }
    }

    const stepExecutor = executorName(step.executor, `step "${id}": `, [...base, 'executor']);
    if (step['working-directory'] !== undefined && path.isAbsolute(step['working-directory'])) {
      problems.add('config.type', `step "${id}": working-directory must be relative to ${path.basename(file)}`, pos.value([...base, 'working-directory']) ?? pos.key(base));
    }

    const spec: StepSpec = {
      id,
      uses: step.uses ?? 'run',
      with: step.run !== undefined ? { script: step.run } : (step.with ?? {}),
      needs,
      ...(matrix ? { matrix } : {}),
      env: toStringRecord(step.env),
      ...(step.if !== undefined ? { if: String(step.if) } : {}),
      ...(timeoutMs !== undefined ? { timeoutMs } : {}),
      retries: step.retries ?? 0,
      continueOnError: step['continue-on-error'] ?? false,
      ...(step['working-directory'] !== undefined ? { workingDirectory: step['working-directory'] } : {}),
      outputs: step.outputs ?? [],
      ...(step.cache ? { cache: { inputs: step.cache.inputs, ...(step.cache.outputs ? { outputs: step.cache.outputs } : {}) } } : {}),
      ...(stepExecutor !== undefined ? { executor: stepExecutor } : {}),
      location: problems.at(pos.key(base)),
    };
    steps.push(spec);
  }

  // cycles: report each once, as the path that closes it
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const reported = new Set<string>();
  const visit = (id: string): void => {
    if (state.get(id) === 'done') return;
    if (state.get(id) === 'visiting') {
      const cycle = [...stack.slice(stack.indexOf(id)), id];
      const key = [...cycle.slice(0, -1)].sort().join(',');
      if (!reported.has(key)) {
        reported.add(key);
        problems.add('config.cycle', `steps depend on each other in a cycle: ${cycle.join(' → ')}`, pos.key(['steps', cycle[0]!]), 'remove one of these needs');
      }
      return;
    }
    state.set(id, 'visiting');
    stack.push(id);
    for (const need of needsOf.get(id) ?? []) if (needsOf.has(need)) visit(need);
    stack.pop();
    state.set(id, 'done');
  };
  for (const id of ids) visit(id);

  // expressions: syntax, and references to steps that are upstream and to matrix keys that exist
  const upstream = (id: string): Set<string> => {
    const seen = new Set<string>();
    const queue = [...(needsOf.get(id) ?? [])];
    for (let i = 0; i < queue.length && i < 10_000; i += 1) {
      const n = queue[i]!;
      if (seen.has(n)) continue;
      seen.add(n);
      queue.push(...(needsOf.get(n) ?? []));
    }
    return seen;
  };
  for (const spec of steps) {
    const base: Path = ['steps', spec.id];
    const before = upstream(spec.id);
    const matrixKeys = new Set([...Object.keys(spec.matrix?.axes ?? {}), ...(spec.matrix?.include ?? []).flatMap((c) => Object.keys(c))]);
    const raw = pipeline.steps[spec.id]!;
    const places: Array<[string, Path]> = [
      ...(raw.run !== undefined ? [[raw.run, [...base, 'run']] as [string, Path]] : []),
      ...stringsIn(raw.with ?? {}, [...base, 'with']),
      ...stringsIn(raw.env ?? {}, [...base, 'env']),
      ...(raw['working-directory'] !== undefined ? [[raw['working-directory'], [...base, 'working-directory']] as [string, Path]] : []),
    ];
    const check = (source: string, p: Path, index: number, conditionText?: string): void => {
      try {
        const expr = conditionText !== undefined ? parseCondition(conditionText) : parseExpression(source);
        const refs = expressionReferences(expr);
        for (const s of refs.steps) {
          if (!needsOf.has(s)) {
            problems.add('config.expression', `step "${spec.id}": steps.${s} is not a step${didYouMean(s, ids)}`, pos.expression(p, index, text), `steps: ${ids.join(', ')}`);
          } else if (!before.has(s)) {
            problems.add('config.expression', `step "${spec.id}" reads steps.${s}, which does not run before it`, pos.expression(p, index, text), `add "${s}" to the needs of "${spec.id}"`);
          }
        }
        for (const m of refs.matrix) {
          if (!matrixKeys.has(m)) {
            problems.add('config.expression', `step "${spec.id}": matrix.${m} is not an axis of its matrix`, pos.expression(p, index, text), matrixKeys.size ? `axes: ${[...matrixKeys].join(', ')}` : 'this step has no matrix');
          }
        }
      } catch (error) {
        if (!(error instanceof ExpressionSyntaxError)) throw error;
        const at = pos.expression(p, index, text);
        problems.add('config.expression', `step "${spec.id}": ${error.message}`, conditionText === undefined ? at + 3 + error.offset : at, error.hint);
      }
    };
    for (const [value, p] of places) {
      let found;
      try {
        found = findExpressions(value);
      } catch (error) {
        if (!(error instanceof ExpressionSyntaxError)) throw error;
        problems.add('config.expression', `step "${spec.id}": ${error.message}`, pos.expression(p, 0, text), error.hint);
        continue;
      }
      found.forEach((e, index) => check(e.source, p, index));
    }
    if (raw.if !== undefined && typeof raw.if === 'string') check(raw.if, [...base, 'if'], 0, raw.if);
  }

  problems.throwIfAny();
  return {
    name: pipeline.name,
    file: path.resolve(file),
    root: path.dirname(path.resolve(file)),
    env: toStringRecord(pipeline.env),
    steps,
    ...(pipelineExecutor !== undefined ? { executor: pipelineExecutor } : {}),
    ...(pipeline['cache-url'] !== undefined ? { cacheUrl: pipeline['cache-url'] } : {}),
    ...(Object.keys(executorConfigs).length ? { executors: executorConfigs } : {}),
  };
}

export async function loadPipeline(file: string, options: LoadOptions): Promise<PipelineSpec> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ShipgateError('config.not-found', `cannot read ${file}: ${(error as Error).message}`, { hint: 'check the path given with -f / -C' });
  }
  return parsePipeline(text, file, options);
}
