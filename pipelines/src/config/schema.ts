// The zod schema of shipgate.yml as written: the single source of its validation and of the JSON
// Schema editors use. Semantic checks (needs, cycles, expressions, step inputs) live in validate.ts.
import { z } from 'zod';

export const identifierPattern = /^[A-Za-z_][A-Za-z0-9_-]*$/;
const scalar = z.union([z.string(), z.number(), z.boolean()]);

export const envSchema = z
  .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'environment variable names are letters, digits and _'), scalar)
  .describe('Environment variables (values may use ${{ }} expressions).');

export const matrixSchema = z
  .object({
    include: z.array(z.record(z.string(), scalar)).optional().describe('Extra combinations, or extra keys for matching ones.'),
    exclude: z.array(z.record(z.string(), scalar)).optional().describe('Combinations to leave out (partial matches remove every match).'),
    'max-parallel': z.number().int().min(1).optional().describe('At most this many instances of the step at once.'),
  })
  .catchall(z.array(scalar).min(1, 'a matrix axis needs at least one value'))
  .describe('Runs the step once per combination of the axes: `{ target: [api, worker] }`.');

export const stepKeys = [
  'run',
  'uses',
  'with',
  'needs',
  'matrix',
  'env',
  'if',
  'timeout',
  'retries',
  'continue-on-error',
  'working-directory',
  'outputs',
  'cache',
  'executor',
] as const;

export const stepSchema = z
  .strictObject({
    run: z.string().min(1, 'run: needs a script').optional().describe('A shell script (bash -eo pipefail).'),
    uses: z.string().min(1).optional().describe('A registered step, e.g. db-test, quality-gate, image.'),
    with: z.record(z.string(), z.unknown()).optional().describe('Inputs of the `uses:` step.'),
    needs: z.union([z.string(), z.array(z.string())]).optional().describe('Steps that must finish first.'),
    matrix: matrixSchema.optional(),
    env: envSchema.optional(),
    if: z.union([z.string(), z.boolean()]).optional().describe("Run only when true, e.g. ${{ ci.branch == 'main' }}."),
    timeout: z.string().optional().describe('Stop the step after this long: 90s, 10m, 1h30m.'),
    retries: z.number().int().min(0).max(10).optional().describe('Run a failed step again up to this many times.'),
    'continue-on-error': z.boolean().optional().describe('A failure of this step does not fail the run.'),
    'working-directory': z.string().optional().describe('Relative to the directory of shipgate.yml.'),
    outputs: z.array(z.string().regex(identifierPattern)).optional().describe('Outputs the step sets in $SHIPGATE_OUTPUT.'),
    cache: z
      .strictObject({ inputs: z.array(z.string().min(1)).min(1).describe('Globs whose contents key the cache.') })
      .optional()
      .describe('Skip the step when its definition, input files, env and upstream outputs are unchanged.'),
    executor: z.string().optional().describe('Where the step runs: local (default) or codebuild.'),
  })
  .describe('A step: `run:` a script or `uses:` a registered step.');

export const pipelineKeys = ['name', 'env', 'executor', 'steps'] as const;

export const pipelineSchema = z
  .strictObject({
    name: z.string().min(1).describe('The pipeline name (reports, exports).'),
    env: envSchema.optional(),
    executor: z.string().optional().describe('Default executor for every step: local (default) or codebuild.'),
    steps: z.record(z.string().regex(identifierPattern, 'step ids are letters, digits, _ and -, starting with a letter or _'), stepSchema).describe('The steps, by id.'),
  })
  .describe('shipgate pipeline (shipgate.yml)');

export type RawPipeline = z.infer<typeof pipelineSchema>;
export type RawStep = z.infer<typeof stepSchema>;
