// Loads shipgate.yml into a PipelineSpec, or fails with every problem found, each pointing at its
// file:line:column. Parsing keeps YAML positions (the `yaml` package's CST), the zod schema checks
// shape and types, then the semantic checks: steps, needs, cycles, matrices, expressions, inputs.
import { constants, statSync, type Stats } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node, type Pair, type YAMLMap } from 'yaml';
import type { z } from 'zod';
import { ExitCode, ShipgateError, type SourceLocation } from '@shipgate/protocol';
import type { StepRegistry } from '@shipgate/protocol';
import { checkReferences, ExpressionSyntaxError, findExpressions, parseCondition, parseExpression, type Expression, type StepRead } from './expressions.js';
import { configLimits, listNames, printable } from '@shipgate/protocol';
import { parseDuration } from '@shipgate/protocol';
import { checkYamlStructure } from './yaml-source.js';
import { cycleText, findCycles, runsBefore } from './graph.js';
import { plainIssueMessage } from './messages.js';
import type { MatrixSpec, MatrixValue, PipelineSpec, StepSpec } from './model.js';
import { pipelineKeys, pipelineSchema, stepKeys, type RawPipeline, type RawStep } from './schema.js';
import { closest, didYouMean } from '@shipgate/protocol';
import { expandMatrix, invocationId } from '../plan/matrix.js';
import { executorKinds, resolveExecutor } from './executor.js';
import type { ExecutorConfig } from './model.js';
import { codebuildExecutorKeys } from './schema.js';

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

const defaultFiles = ['shipgate.yml', 'shipgate.yaml'];

/** stat() that answers undefined for "not there" and a ShipgateError for anything else (EACCES, ELOOP, …). */
function statIfThere(file: string, shown: string): Stats | undefined {
  try {
    return statSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw unreadable(shown, error);
  }
}

function unreadable(shown: string, error: unknown): ShipgateError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM') {
    return new ShipgateError('config.unreadable', `${printable(shown)}: permission denied (the file exists but cannot be read)`, { hint: 'check its permissions, or run as a user who may read it' });
  }
  return new ShipgateError('config.unreadable', `${printable(shown)}: cannot be read (${code ?? (error as Error).message})`, { hint: 'check the path given with -f / -C' });
}

/** Only a regular file of bounded size is read: a FIFO, a device or a directory would hang or flood. */
function checkFileKind(stats: Stats, shown: string): void {
  if (stats.isDirectory()) throw new ShipgateError('config.not-a-file', `${printable(shown)} is a directory, not a pipeline file`, { hint: 'point -f at the shipgate.yml inside it, or use -C <dir>' });
  if (!stats.isFile()) throw new ShipgateError('config.not-a-file', `${printable(shown)} is not a regular file (a pipe, socket or device)`, { hint: 'shipgate reads shipgate.yml from a file; save the text to a file first' });
  if (stats.size > configLimits.maxFileBytes) {
    throw new ShipgateError('config.too-large', `${printable(shown)} is ${(stats.size / 1048576).toFixed(1)} MiB; a pipeline file may be at most ${configLimits.maxFileBytes / 1048576} MiB`, { hint: 'is this the right file?' });
  }
}

/** The pipeline file for `dir` (or `file`, relative to it). Throws config.not-found, config.unreadable, config.not-a-file. */
export function findPipelineFile(dir: string, file?: string): string {
  if (file !== undefined) {
    if (file === '') throw new ShipgateError('cli.empty-option', '-f/--file is empty: give the pipeline file', { hint: 'for example -f ci/shipgate.yml' });
    const resolved = path.resolve(dir, file);
    const stats = statIfThere(resolved, file);
    if (!stats) throw new ShipgateError('config.not-found', `${printable(file)}: no such file`, { hint: `looked in ${printable(dir)}` });
    checkFileKind(stats, file);
    return resolved;
  }
  const dirStats = statIfThere(dir, dir);
  if (!dirStats) throw new ShipgateError('config.not-found', `${printable(dir)}: no such directory`, { hint: 'check the directory given with -C' });
  if (!dirStats.isDirectory()) throw new ShipgateError('config.not-a-file', `${printable(dir)} is not a directory`, { hint: 'give -C a directory and -f the file' });
  for (const name of defaultFiles) {
    const candidate = path.join(dir, name);
    const stats = statIfThere(candidate, candidate);
    if (!stats) continue;
    checkFileKind(stats, candidate);
    return candidate;
  }
  throw new ShipgateError('config.not-found', `no shipgate.yml in ${printable(dir)}`, { hint: 'create one (see the pipelines README), or point at it with -C <dir> or -f <file>' });
}

/** A problem as found; it becomes a ShipgateError only if it is among those printed. */
interface Found {
  readonly code: string;
  /** A function when the message costs something (a did-you-mean over thousands of names). */
  readonly message: string | (() => string);
  readonly offset: number;
  readonly hint: string | undefined;
}

class Problems {
  readonly list: Found[] = [];
  constructor(
    readonly file: string,
    readonly lineCounter: LineCounter,
  ) {}

  at(offset: number): SourceLocation {
    const pos = this.lineCounter.linePos(offset);
    return { file: this.file, line: pos.line, column: pos.col };
  }

  add(code: string, message: string | (() => string), offset: number, hint?: string): void {
    this.list.push({ code, message, offset, hint });
  }

  /** Every message and hint is one printable line of bounded length, whatever the file held. */
  problem(code: string, message: string, offset: number, hint?: string): ShipgateError {
    return new ShipgateError(code, printable(message), { location: this.at(offset), exitCode: ExitCode.usage, ...(hint ? { hint: printable(hint) } : {}) });
  }

  /**
   * One error holding every problem, sorted by position. At most `maxProblems` are kept; a last
   * line counts the rest, so a broken 5,000-step file prints a screenful, not megabytes.
   */
  throwIfAny(): void {
    if (this.list.length === 0) return;
    const sorted = [...this.list].sort((a, b) => a.offset - b.offset);
    const shown = sorted.slice(0, configLimits.maxProblems).map((f) => this.problem(f.code, typeof f.message === 'string' ? f.message : f.message(), f.offset, f.hint));
    const hidden = sorted.length - shown.length;
    if (hidden > 0) {
      shown.push(this.problem('config.more', `${hidden.toLocaleString('en-US')} more problems not shown, the next one here`, sorted[shown.length]!.offset, 'fix these first and validate again'));
    }
    const [first, ...rest] = shown;
    throw new ShipgateError(first!.code, first!.message, {
      location: first!.location!,
      ...(first!.hint ? { hint: first!.hint } : {}),
      exitCode: ExitCode.usage,
      related: rest,
    });
  }
}

type Path = readonly (string | number)[];

/**
 * Positions in the YAML source for a path of keys. Each mapping's keys are indexed on first use:
 * looking a step up by scanning its mapping made validation quadratic (a 20,000-step chain took 40 s).
 */
class Positions {
  readonly #index = new WeakMap<object, Map<string, Pair>>();

  constructor(private readonly doc: Document) {}

  private pairOf(map: YAMLMap, key: string): Pair | undefined {
    let index = this.#index.get(map);
    if (!index) {
      index = new Map();
      for (const item of map.items) {
        if (isPair(item) && isScalar(item.key) && !index.has(String(item.key.value))) index.set(String(item.key.value), item);
      }
      this.#index.set(map, index);
    }
    return index.get(key);
  }

  private node(p: Path): Node | undefined {
    let node: unknown = this.doc.contents;
    for (const segment of p) {
      if (isAlias(node)) node = node.resolve(this.doc);
      if (isMap(node)) node = this.pairOf(node, String(segment))?.value;
      else if (isSeq(node) && typeof segment === 'number') node = node.items[segment];
      else return undefined;
    }
    return (node ?? undefined) as Node | undefined;
  }

  value(p: Path): number | undefined {
    return this.node(p)?.range?.[0];
  }

  /** The key node of the last segment (for unknown keys), else the value, else the nearest parent. */
  key(p: Path): number {
    let parent: unknown = p.length ? this.node(p.slice(0, -1)) : this.doc.contents;
    if (isAlias(parent)) parent = parent.resolve(this.doc);
    if (parent && isMap(parent)) {
      const pair = this.pairOf(parent, String(p[p.length - 1]));
      if (pair) return (pair.key as Node).range?.[0] ?? 0;
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
    const range = this.node(p)?.range;
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
  if (typeof v === 'string' && v.length > 60) return `${JSON.stringify(v.slice(0, 40))}… (${v.length} characters)`;
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
  const reported = new Set<string>(); // one problem per field: `name: []` is not also "too small"
  for (const issue of issues) {
    if (issue.code !== 'unrecognized_keys' && valueAt(raw, issue.path as Path) === undefined && misspelt.has(pathText(issue.path as Path))) continue;
    const p = issue.path as Path;
    if (issue.code === 'invalid_key') {
      const why = issue.issues.map((i) => i.message).find((m) => !/^Invalid/.test(m)) ?? 'not an allowed name';
      problems.add('config.type', `${pathText(p.slice(0, -1))}: "${String(p[p.length - 1])}" is not a valid name: ${why}`, pos.key(p));
      continue;
    }
    if (issue.code !== 'unrecognized_keys') {
      if (reported.has(pathText(p))) continue;
      reported.add(pathText(p));
    }
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
    const message = missing ? `${pathText(p)} is required` : `${pathText(p)}: ${plainIssueMessage(issue)} (got ${describeValue(got)})`;
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

/** Why a matrix is too large to expand, counted before expanding it (40 axes of two values are 2^40). */
function matrixSizeProblem(matrix: MatrixSpec): string | undefined {
  const max = configLimits.maxMatrixCombinations;
  let product = 1;
  for (const values of Object.values(matrix.axes)) {
    product *= values.length;
    if (product > max) break;
  }
  const total = product + matrix.include.length;
  if (product <= max && total <= max && matrix.exclude.length <= max) return undefined;
  const what = product > max ? 'its axes make more than' : matrix.exclude.length > max ? 'its exclude lists more than' : 'its axes and include make more than';
  return `the matrix is too large: ${what} ${max} combinations (at most ${max} per step)`;
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

/** Output names each step declares: its own `outputs:`, else those its registered step documents; undefined when neither. */
function declaredOutputs(pipeline: RawPipeline, registry: StepRegistry): Map<string, readonly string[] | undefined> {
  const declared = new Map<string, readonly string[] | undefined>();
  for (const [id, step] of Object.entries(pipeline.steps)) {
    const documented = step.uses !== undefined ? registry.get(step.uses)?.outputs : undefined;
    declared.set(id, step.outputs ?? (documented ? Object.keys(documented) : undefined));
  }
  return declared;
}

/**
 * The checks of every `${{ }}`: syntax (bounded depth and length), contexts and their properties,
 * steps that run before the reader, outputs those steps declare, and matrix axes that exist.
 */
class ExpressionChecker {
  /** Reads of steps that declare no outputs: step id → names read and where the first read is. */
  readonly #undeclared = new Map<string, { names: Set<string>; offset: number }>();

  constructor(
    private readonly problems: Problems,
    private readonly pos: Positions,
    private readonly text: string,
    private readonly ids: readonly string[],
    private readonly needsOf: ReadonlyMap<string, readonly string[]>,
    private readonly declared: ReadonlyMap<string, readonly string[] | undefined>,
  ) {}

  /** Every `${{ }}` inside a string value; `spec` undefined for the pipeline's own env. */
  checkValue(value: string, p: Path, spec: StepSpec | undefined): void {
    let found;
    try {
      found = findExpressions(value);
    } catch (error) {
      if (!(error instanceof ExpressionSyntaxError)) throw error;
      this.problems.add('config.expression', `${this.who(spec, p)}: ${error.message}`, this.pos.expression(p, 0, this.text), error.hint);
      return;
    }
    found.forEach((e, index) => {
      const at = this.pos.expression(p, index, this.text);
      this.checkOne(() => parseExpression(e.source), spec, p, at, at + 3);
    });
  }

  checkCondition(condition: string, p: Path, spec: StepSpec): void {
    const at = this.pos.expression(p, 0, this.text);
    this.checkOne(() => parseCondition(condition), spec, p, at, undefined);
  }

  /** Warnings for steps whose outputs are read but which declare none (reported only on a valid file). */
  undeclaredReads(): ShipgateError[] {
    return [...this.#undeclared.entries()].map(([id, { names, offset }]) =>
      this.problems.problem('config.undeclared-outputs', `step "${id}" declares no outputs, but other steps read ${listNames([...names].map((n) => `steps.${id}.outputs.${n}`), 4)}`, offset, `declare them: outputs: [${listNames([...names], 8)}] — then validate checks every read`),
    );
  }

  private who(spec: StepSpec | undefined, p: Path): string {
    return spec ? `step "${spec.id}"` : pathText(p);
  }

  private checkOne(parse: () => Expression, spec: StepSpec | undefined, p: Path, at: number, sourceStart: number | undefined): void {
    let expr: Expression;
    try {
      expr = parse();
    } catch (error) {
      if (!(error instanceof ExpressionSyntaxError)) throw error;
      this.problems.add('config.expression', `${this.who(spec, p)}: ${error.message}`, sourceStart === undefined ? at : sourceStart + error.offset, error.hint);
      return;
    }
    const { reads, problems } = checkReferences(expr);
    const where = (offset: number): number => (sourceStart === undefined ? at : sourceStart + offset);
    for (const problem of problems) this.problems.add('config.expression', `${this.who(spec, p)}: ${problem.message}`, where(problem.offset), problem.hint);
    for (const read of reads) this.checkRead(read, spec, p, where(read.offset));
    if (spec) this.checkMatrix(expr, spec, p, where);
    else this.checkPipelineEnv(expr, p, where);
  }

  private checkRead(read: StepRead, spec: StepSpec | undefined, p: Path, offset: number): void {
    const name = read.output === undefined ? `steps.${read.step}.outcome` : `steps.${read.step}.outputs.${read.output}`;
    if (!this.needsOf.has(read.step)) {
      this.problems.add('config.expression', () => `${this.who(spec, p)}: steps.${read.step} is not a step${didYouMean(read.step, this.ids)}`, offset, `steps: ${listNames(this.ids)}`);
      return;
    }
    if (!spec) {
      this.problems.add('config.expression', `${pathText(p)}: the pipeline's env cannot read ${name}: it is set for every step, and most run before "${read.step}"`, offset, `move it to the env: of a step that needs "${read.step}"`);
      return;
    }
    if (!runsBefore(this.needsOf, read.step, spec.id)) {
      this.problems.add('config.expression', `step "${spec.id}" reads steps.${read.step}, which does not run before it`, offset, `add "${read.step}" to the needs of "${spec.id}"`);
      return;
    }
    if (read.output === undefined) return;
    const declared = this.declared.get(read.step);
    if (declared === undefined) {
      const entry = this.#undeclared.get(read.step) ?? { names: new Set<string>(), offset: this.pos.key(['steps', read.step]) };
      entry.names.add(read.output);
      this.#undeclared.set(read.step, entry);
    } else if (!declared.includes(read.output)) {
      this.problems.add('config.expression', `step "${spec.id}" reads ${name}, but "${read.step}" declares no output "${read.output}"${didYouMean(read.output, declared)}`, offset, declared.length ? `outputs of "${read.step}": ${listNames([...declared])}` : `"${read.step}" declares outputs: [] (none)`);
    }
  }

  private checkMatrix(expr: Expression, spec: StepSpec, p: Path, where: (offset: number) => number): void {
    const matrixKeys = new Set([...Object.keys(spec.matrix?.axes ?? {}), ...(spec.matrix?.include ?? []).flatMap((c) => Object.keys(c))]);
    for (const [key, offset] of matrixReads(expr)) {
      if (!matrixKeys.has(key)) {
        this.problems.add('config.expression', `step "${spec.id}": matrix.${key} is not an axis of its matrix${didYouMean(key, matrixKeys)}`, where(offset), matrixKeys.size ? `axes: ${listNames([...matrixKeys])}` : 'this step has no matrix');
      }
    }
  }

  private checkPipelineEnv(expr: Expression, p: Path, where: (offset: number) => number): void {
    for (const [key, offset] of matrixReads(expr)) {
      this.problems.add('config.expression', `${pathText(p)}: the pipeline's env cannot read matrix.${key}: it is set for every step, with or without a matrix`, where(offset), 'move it to the env: of the matrix step');
    }
  }
}

/** `matrix.<key>` reads of an expression, with offsets. */
function matrixReads(expr: Expression): Array<[string, number]> {
  const found: Array<[string, number]> = [];
  const stack: Expression[] = [expr];
  while (stack.length > 0) {
    const e = stack.pop()!;
    if (e.kind === 'path') {
      if (e.root === 'matrix' && typeof e.segments[0] === 'string') found.push([e.segments[0], e.offset]);
      for (const s of e.segments) if (typeof s !== 'string') stack.push(s);
    } else if (e.kind === 'call') stack.push(...e.args);
    else if (e.kind === 'not') stack.push(e.operand);
    else if (e.kind === 'binary') stack.push(e.left, e.right);
  }
  return found;
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
  // duplicate keys are found by checkYamlStructure, which names both lines
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: false });
  const problems = new Problems(displayFile, lineCounter);
  for (const error of doc.errors) {
    const code = error.code === 'DUPLICATE_KEY' ? 'config.duplicate-key' : error.code === 'RESOURCE_EXHAUSTION' ? 'config.too-deep' : 'config.yaml';
    const message = error.code === 'RESOURCE_EXHAUSTION' ? 'mappings and lists are nested too deep to read' : error.message.split('\n')[0]!;
    problems.add(code, message, error.pos[0]);
  }
  problems.throwIfAny();
  checkYamlStructure(doc, problems, (offset) => lineCounter.linePos(offset).line);
  problems.throwIfAny();
  let raw: unknown;
  try {
    // aliases are bounded above by the expanded size (configLimits.maxNodes), not by their count:
    // one anchor used a hundred times is a plausible pipeline, an alias bomb is not
    raw = doc.toJS({ maxAliasCount: -1 });
  } catch (error) {
    throw problems.problem('config.yaml', `the file cannot be read as data: ${(error as Error).message}`, 0);
  }
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
        problems.add('config.unknown-step', `step "${id}": no step named "${step.uses}"${didYouMean(step.uses, options.registry.names())}`, pos.value([...base, 'uses']) ?? pos.key(base), `registered steps: ${listNames(options.registry.names(), 16)}`);
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
            const message = got === undefined ? `step "${id}": ${step.uses} needs the input "${field}"` : `step "${id}": input ${field}: ${plainIssueMessage(issue, { pipelineField: false })} (got ${describeValue(got)})`;
            problems.add('config.step-input', message, got === undefined ? pos.key(step.with ? [...base, 'with'] : base) : (pos.value([...base, 'with', ...p]) ?? pos.key([...base, 'with', ...p])), `see \`shipgate steps\` and the ${step.uses} docs`);
          }
        }
      }
    }

    // needs
    for (const [i, need] of needs.entries()) {
      const needPath = typeof step.needs === 'string' ? [...base, 'needs'] : [...base, 'needs', i];
      if (!needsOf.has(need)) {
        problems.add('config.unknown-need', () => `step "${id}" needs "${need}", which is not a step${didYouMean(need, ids)}`, pos.value(needPath) ?? pos.key(base), `steps: ${listNames(ids)}`);
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
      const sizeProblem = matrixSizeProblem(matrix);
      if (sizeProblem) problems.add('config.matrix', `step "${id}": ${sizeProblem}`, pos.key([...base, 'matrix']), 'split the step, or use include: for the combinations you need');
      let repeatedValue = false;
      for (const [axis, values] of Object.entries(matrix.axes)) {
        const seen = new Map<string, number>();
        for (const [i, value] of values.entries()) {
          const first = seen.get(String(value));
          // two equal values would be two instances with one id, build[x=a], and one cache entry
          if (first !== undefined) repeatedValue = true;
          if (first !== undefined) problems.add('config.matrix', `step "${id}": matrix axis ${axis} lists ${JSON.stringify(String(value))} twice (items ${first + 1} and ${i + 1})`, pos.value([...base, 'matrix', axis, i]) ?? pos.key([...base, 'matrix', axis]), 'each value of an axis must differ');
          else seen.set(String(value), i);
        }
      }
      for (const [i, combo] of matrix.exclude.entries()) {
        for (const key of Object.keys(combo)) {
          if (!axes.includes(key)) {
            problems.add('config.matrix', `step "${id}": exclude[${i}] names "${key}", which is not an axis${didYouMean(key, axes)}`, pos.key([...base, 'matrix', 'exclude', i, key]), `axes: ${axes.join(', ') || '(none)'}`);
          }
        }
      }
      const combinations = !sizeProblem && (axes.length > 0 || matrix.include.length > 0) ? expandMatrix(matrix) : undefined;
      if (combinations?.length === 0) {
        problems.add('config.matrix', `step "${id}": exclude removes every combination, so the step would never run`, pos.key([...base, 'matrix', 'exclude']), 'remove an exclude entry, or the step');
      }
      // an include that repeats a combination would make two invocations with one id
      const seenIds = new Set<string>();
      for (const combo of repeatedValue ? [] : (combinations ?? [])) {
        const invocation = invocationId(id, combo);
        if (seenIds.has(invocation)) {
          problems.add('config.matrix', `step "${id}": the matrix makes ${invocation} twice`, pos.key([...base, 'matrix', 'include']), 'remove the include entry that repeats a combination');
          break;
        }
        seenIds.add(invocation);
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
      ...(step.artifacts ? { artifacts: step.artifacts } : {}),
      ...(stepExecutor !== undefined ? { executor: stepExecutor } : {}),
      location: problems.at(pos.key(base)),
    };
    steps.push(spec);
  }

  // cycles: each group of steps that need each other is one problem, at the needs: entry that
  // closes the cycle (a 700-step complete graph used to print 542 MB of cycles)
  for (const closing of findCycles(ids, needsOf)) {
    const { step, needIndex, cycle } = closing;
    const raw = pipeline.steps[step]!;
    const at = typeof raw.needs === 'string' ? ['steps', step, 'needs'] : ['steps', step, 'needs', needIndex];
    const message = cycle.length === 2 ? `step "${step}" needs itself` : `step "${step}" needs "${cycle[cycle.length - 1]}", which closes a cycle: ${cycleText(cycle)} (each needs the next)`;
    problems.add('config.cycle', message, pos.value(at) ?? pos.key(['steps', step]), `remove this need, or another need of the cycle`);
  }

  const checker = new ExpressionChecker(problems, pos, text, ids, needsOf, declaredOutputs(pipeline, options.registry));
  // pipeline env: interpolated for every step, so it may read only what every step has
  for (const [value, p] of stringsIn(pipeline.env ?? {}, ['env'])) checker.checkValue(value, p, undefined);
  for (const spec of steps) {
    const base: Path = ['steps', spec.id];
    const raw = pipeline.steps[spec.id]!;
    const places: Array<[string, Path]> = [
      ...(raw.run !== undefined ? [[raw.run, [...base, 'run']] as [string, Path]] : []),
      ...stringsIn(raw.with ?? {}, [...base, 'with']),
      ...stringsIn(raw.env ?? {}, [...base, 'env']),
      ...(raw['working-directory'] !== undefined ? [[raw['working-directory'], [...base, 'working-directory']] as [string, Path]] : []),
    ];
    for (const [value, p] of places) checker.checkValue(value, p, spec);
    if (raw.if !== undefined && typeof raw.if === 'string') checker.checkCondition(raw.if, [...base, 'if'], spec);
  }
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
    ...(Object.keys(executorConfigs).length ? { executors: executorConfigs } : {}),
  };
}

export async function loadPipeline(file: string, options: LoadOptions): Promise<PipelineSpec> {
  return parsePipeline(await readPipelineText(file, options.displayFile ?? file), file, options);
}

/**
 * The file's text, read only if it is a regular file of bounded size. It is opened without
 * blocking and checked on the open handle, so a FIFO swapped in after findPipelineFile cannot
 * hang the read (a hung read also kept SIGTERM from ending the process).
 */
async function readPipelineText(file: string, shown: string): Promise<string> {
  let handle;
  try {
    handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new ShipgateError('config.not-found', `${printable(shown)}: no such file`, { hint: 'check the path given with -f / -C' });
    throw unreadable(shown, error);
  }
  try {
    checkFileKind(await handle.stat(), shown);
    const buffer = Buffer.alloc(configLimits.maxFileBytes + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length > configLimits.maxFileBytes) throw new ShipgateError('config.too-large', `${printable(shown)} grew past ${configLimits.maxFileBytes / 1048576} MiB while being read`);
    }
    return buffer.toString('utf8', 0, length);
  } catch (error) {
    if (error instanceof ShipgateError) throw error;
    throw unreadable(shown, error);
  } finally {
    await handle.close();
  }
}
