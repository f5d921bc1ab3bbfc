// The checks of every `${{ }}` in a pipeline: syntax (bounded depth and length), contexts and their
// properties, steps that run before the reader, outputs those steps declare, and matrix axes that
// exist. Runs after the per-step checks, since it needs every step's needs and matrix.
import { didYouMean, listNames, type ShipgateError, type StepRegistry } from '@shipgate/protocol';
import { findExpressions, parseCondition } from '../expressions/embedded.js';
import { ExpressionSyntaxError, type Expression } from '../expressions/language.js';
import { parseExpression } from '../expressions/parser.js';
import { checkReferences, matrixReads, type StepRead } from '../expressions/references.js';
import { runsBefore } from '../graph.js';
import { pathText, stringsIn, type Path } from '../key-path.js';
import type { StepSpec } from '../model.js';
import type { Positions } from '../positions.js';
import type { Problems } from '../problems.js';
import type { RawPipeline } from '../schema.js';

/** Output names each step declares: its own `outputs:`, else those its registered step documents; undefined when neither. */
export function declaredOutputs(pipeline: RawPipeline, registry: StepRegistry): Map<string, readonly string[] | undefined> {
  const declared = new Map<string, readonly string[] | undefined>();
  for (const [id, step] of Object.entries(pipeline.steps)) {
    const documented = step.uses !== undefined ? registry.get(step.uses)?.outputs : undefined;
    declared.set(id, step.outputs ?? (documented ? Object.keys(documented) : undefined));
  }
  return declared;
}

export class ExpressionChecker {
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
    if (spec) this.checkMatrix(expr, spec, where);
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
    if (read.output !== undefined) this.checkDeclaredOutput(read.step, read.output, name, spec, offset);
  }

  /** The output read is one the step declares; reads of a step that declares none become one warning per step. */
  private checkDeclaredOutput(step: string, output: string, name: string, spec: StepSpec, offset: number): void {
    const declared = this.declared.get(step);
    if (declared === undefined) {
      const entry = this.#undeclared.get(step) ?? { names: new Set<string>(), offset: this.pos.key(['steps', step]) };
      entry.names.add(output);
      this.#undeclared.set(step, entry);
    } else if (!declared.includes(output)) {
      this.problems.add('config.expression', `step "${spec.id}" reads ${name}, but "${step}" declares no output "${output}"${didYouMean(output, declared)}`, offset, declared.length ? `outputs of "${step}": ${listNames([...declared])}` : `"${step}" declares outputs: [] (none)`);
    }
  }

  private checkMatrix(expr: Expression, spec: StepSpec, where: (offset: number) => number): void {
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

/** The places of a step that may hold `${{ }}`, in the order they are checked. */
function expressionPlaces(raw: RawPipeline['steps'][string], base: Path): Array<[string, Path]> {
  return [
    ...(raw.run !== undefined ? [[raw.run, [...base, 'run']] as [string, Path]] : []),
    ...stringsIn(raw.with ?? {}, [...base, 'with']),
    ...stringsIn(raw.env ?? {}, [...base, 'env']),
    ...(raw['working-directory'] !== undefined ? [[raw['working-directory'], [...base, 'working-directory']] as [string, Path]] : []),
  ];
}

/** Checks every expression of the pipeline: its env first, then each step's values and its `if:`. */
export function checkPipelineExpressions(checker: ExpressionChecker, pipeline: RawPipeline, steps: readonly StepSpec[]): void {
  // pipeline env: interpolated for every step, so it may read only what every step has
  for (const [value, p] of stringsIn(pipeline.env ?? {}, ['env'])) checker.checkValue(value, p, undefined);
  for (const spec of steps) {
    const base: Path = ['steps', spec.id];
    const raw = pipeline.steps[spec.id]!;
    for (const [value, p] of expressionPlaces(raw, base)) checker.checkValue(value, p, spec);
    if (raw.if !== undefined && typeof raw.if === 'string') checker.checkCondition(raw.if, [...base, 'if'], spec);
  }
}
