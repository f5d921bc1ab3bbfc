// The local gate: Sonar's condition model evaluated by shipgate from reports on disk, for teams
// without a Sonar server. `evaluateLocalGate` is the pure decision (measures + thresholds →
// conditions); `collectLocalMeasures` reads the reports and asks git what changed.
import { readFile, realpath } from 'node:fs/promises';
import path from 'node:path';
import * as z from 'zod';
import { ShipgateError, ExitCode } from '@shipgate/protocol';
import type { CiContext, ProcessRunner } from '@shipgate/protocol';
import { evaluateGateCondition, gateStatus, type GateCondition, type GateResult } from '../conditions.js';
import { pullRequestBase } from '../scanner.js';
import { changedLinesCoverage, overallCoverage, parseLcov } from './lcov.js';
import { changedLinesSince, rekeyForLcov } from './diff.js';
import { eslintCounts, jestCounts, jscpdDuplication } from './reports.js';

const percent = z.number().min(0).max(100);
const count = z.number().int().min(0);

export const localGateSchema = z
  .strictObject({
    coverage: z
      .strictObject({
        lcov: z.string().min(1).default('coverage/lcov.info').describe('lcov tracefile (jest --coverage writes coverage/lcov.info)'),
        min: percent.optional().describe('fail when line coverage is below this percentage (metric coverage)'),
        'new-lines-min': percent.optional().describe('fail when coverage of the lines changed since the base is below this (metric new_coverage)'),
        base: z.string().min(1).optional().describe('base ref for changed lines; default: the pull request base or default branch (origin/<it>, else <it>), else main'),
      })
      .refine((c) => c.min !== undefined || c['new-lines-min'] !== undefined, { message: 'set min, new-lines-min or both' })
      .optional(),
    eslint: z
      .strictObject({
        report: z.string().min(1).describe('ESLint JSON output (eslint -f json -o <file>)'),
        'max-errors': count.default(0).describe('fail when there are more errors (metric eslint_errors)'),
        'max-warnings': count.optional().describe('fail when there are more warnings (metric eslint_warnings)'),
      })
      .optional(),
    tests: z
      .strictObject({
        report: z.string().min(1).describe('Jest JSON results (jest --json --outputFile=<file>)'),
        'max-failures': count.default(0).describe('fail when more tests failed (metric test_failures)'),
      })
      .optional(),
    duplication: z
      .strictObject({
        report: z.string().min(1).default('report/jscpd-report.json').describe('jscpd JSON report (jscpd --reporters json)'),
        'max-percent': percent.describe('fail when more lines than this percentage are duplicated (metric duplicated_lines_density)'),
      })
      .optional(),
  })
  .refine((v) => Object.values(v).some((x) => x !== undefined), { message: 'name at least one of coverage, eslint, tests, duplication' });

export type LocalGateConfig = z.output<typeof localGateSchema>;

/** What the reports say. A missing field is a measure nobody asked for (or nothing to measure). */
export interface LocalMeasures {
  coverage?: number | undefined;
  newCoverage?: number | undefined;
  eslintErrors?: number;
  eslintWarnings?: number;
  testFailures?: number;
  duplicatedLinesDensity?: number;
}

/** Thresholds + measures → conditions, in a fixed order. Pure. */
export function evaluateLocalGate(config: LocalGateConfig, measures: LocalMeasures): GateResult {
  const conditions: GateCondition[] = [];
  if (config.coverage?.min !== undefined) conditions.push(evaluateGateCondition('coverage', measures.coverage, 'LT', config.coverage.min));
  if (config.coverage?.['new-lines-min'] !== undefined) conditions.push(evaluateGateCondition('new_coverage', measures.newCoverage, 'LT', config.coverage['new-lines-min']));
  if (config.eslint) {
    conditions.push(evaluateGateCondition('eslint_errors', measures.eslintErrors, 'GT', config.eslint['max-errors']));
    if (config.eslint['max-warnings'] !== undefined) conditions.push(evaluateGateCondition('eslint_warnings', measures.eslintWarnings, 'GT', config.eslint['max-warnings']));
  }
  if (config.tests) conditions.push(evaluateGateCondition('test_failures', measures.testFailures, 'GT', config.tests['max-failures']));
  if (config.duplication) conditions.push(evaluateGateCondition('duplicated_lines_density', measures.duplicatedLinesDensity, 'GT', config.duplication['max-percent']));
  return { status: gateStatus(conditions), conditions };
}

async function readReport(cwd: string, file: string, json: boolean): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path.resolve(cwd, file), 'utf8');
  } catch (error) {
    throw new ShipgateError('quality-gate.report-missing', `local gate: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, {
      exitCode: ExitCode.usage,
      hint: 'write the report in an earlier step (and list that step in needs:), or fix the path (relative to the step directory)',
    });
  }
  if (!json) return text;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ShipgateError('quality-gate.report-invalid', `local gate: ${file} is not JSON: ${(error as Error).message}`, { exitCode: ExitCode.usage, hint: 'point at the JSON report, not the console output' });
  }
}

export interface CollectOptions {
  cwd: string;
  ci: CiContext;
  env: Readonly<Record<string, string | undefined>>;
  process: ProcessRunner;
  /** Told which merge-base the changed lines came from. */
  onBase?: (base: string, mergeBase: string, files: number) => void;
}

/** The default base candidates for changed lines: the PR base / default branch, on origin first. */
export function baseCandidates(config: LocalGateConfig, ci: CiContext, env: Readonly<Record<string, string | undefined>>): string[] {
  if (config.coverage?.base) return [config.coverage.base];
  const branch = pullRequestBase(ci, env) ?? 'main';
  return [`origin/${branch}`, branch];
}

/** Reads every report the config names (and the git diff, for new_coverage). */
export async function collectLocalMeasures(config: LocalGateConfig, options: CollectOptions): Promise<LocalMeasures> {
  const measures: LocalMeasures = {};
  if (config.coverage) {
    const coverage = parseLcov((await readReport(options.cwd, config.coverage.lcov, false)) as string);
    if (coverage.size === 0) {
      throw new ShipgateError('quality-gate.report-invalid', `local gate: ${config.coverage.lcov} has no SF: records`, { exitCode: ExitCode.usage, hint: 'is it an lcov tracefile? jest --coverage --coverageReporters=lcov writes coverage/lcov.info' });
    }
    measures.coverage = overallCoverage(coverage).percent;
    if (config.coverage['new-lines-min'] !== undefined) {
      const since = await changedLinesSince(options.process, options.cwd, baseCandidates(config, options.ci, options.env));
      options.onBase?.(since.base, since.mergeBase, since.changed.size);
      // jest writes SF paths relative to its rootDir or absolute; resolve against the real directory git sees
      const lcovRoot = await realpath(options.cwd);
      measures.newCoverage = changedLinesCoverage(coverage, rekeyForLcov(since, coverage.keys(), lcovRoot)).percent;
    }
  }
  if (config.eslint) {
    const counts = eslintCounts(await readReport(options.cwd, config.eslint.report, true), config.eslint.report);
    measures.eslintErrors = counts.errors;
    measures.eslintWarnings = counts.warnings;
  }
  if (config.tests) measures.testFailures = jestCounts(await readReport(options.cwd, config.tests.report, true), config.tests.report).failed;
  if (config.duplication) measures.duplicatedLinesDensity = jscpdDuplication(await readReport(options.cwd, config.duplication.report, true), config.duplication.report).percent;
  return measures;
}
