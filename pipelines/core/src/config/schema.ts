// The zod schema of shipgate.yml as written: the single source of its validation and of the JSON
// Schema editors use. Semantic checks (needs, cycles, expressions, step inputs) live in validate.ts.
import * as z from 'zod';

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

/** CodeBuild compute types (the API's ComputeType values; kept here so loading shipgate.yml never loads the AWS SDK). */
export const codebuildComputeTypes = [
  'BUILD_GENERAL1_SMALL',
  'BUILD_GENERAL1_MEDIUM',
  'BUILD_GENERAL1_LARGE',
  'BUILD_GENERAL1_XLARGE',
  'BUILD_GENERAL1_2XLARGE',
  'BUILD_LAMBDA_1GB',
  'BUILD_LAMBDA_2GB',
  'BUILD_LAMBDA_4GB',
  'BUILD_LAMBDA_8GB',
  'BUILD_LAMBDA_10GB',
  'ATTRIBUTE_BASED_COMPUTE',
  'CUSTOM_INSTANCE_TYPE',
] as const;

/** A CodeBuild project name, as the CodeBuild API allows it. */
export const codebuildProjectPattern = /^[A-Za-z0-9][A-Za-z0-9_-]{1,254}$/;

export const codebuildExecutorKeys = ['project', 'region', 'image', 'compute-type', 'install', 'secrets', 'poll-interval'] as const;

export const codebuildExecutorSchema = z
  .strictObject({
    project: z.string().regex(codebuildProjectPattern, 'a CodeBuild project name: letters, digits, - and _ (2–255)').describe('The CodeBuild project whose builds run the steps.'),
    region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d{1,2}$/, 'an AWS region such as eu-west-1').optional().describe('AWS region of the project (default: AWS_REGION of the run).'),
    image: z.string().min(1).optional().describe('imageOverride: the build image (it needs Node.js 24 and the repository\'s dependencies installable).'),
    'compute-type': z.enum(codebuildComputeTypes).optional().describe('computeTypeOverride, e.g. BUILD_GENERAL1_MEDIUM.'),
    install: z.array(z.string().min(1)).optional().describe('Commands run before the step in the build (default: npm ci).'),
    secrets: z
      .record(
        z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'environment variable names are letters, digits and _'),
        z.string().regex(/^(parameter-store|secrets-manager):.+$/, 'parameter-store:<parameter name> or secrets-manager:<secret id>[:json-key]'),
      )
      .optional()
      .describe('Secret environment variables the build reads from Parameter Store or Secrets Manager itself: { DB_PASSWORD: parameter-store:/orders/db-password }. Their values never travel in the request.'),
    'poll-interval': z.string().optional().describe('How often the build is polled: 5s (default), 2s, 1m.'),
  })
  .describe('Run in AWS CodeBuild with these settings.');

export const executorSchema = z
  .union([
    z.string().min(1).describe('local, codebuild:<project>, or codebuild (the project named by $SHIPGATE_CODEBUILD_PROJECT).'),
    z.strictObject({ codebuild: codebuildExecutorSchema }),
  ])
  .describe('Where the step runs: local (default), codebuild:<project>, or { codebuild: { project, region, image, compute-type, install, secrets } }.');

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
  'artifacts',
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
      .strictObject({
        inputs: z.array(z.string().min(1)).min(1).describe('Globs whose contents key the cache.'),
        outputs: z.array(z.string().min(1)).optional().describe('Globs (or folders) of the files the step produces: stored on success, restored on a hit.'),
      })
      .optional()
      .describe('Skip the step when its definition, input files, env and upstream outputs are unchanged; restore the files its outputs globs name.'),
    artifacts: z
      .array(z.string().min(1))
      .optional()
      .describe('Globs of files this step writes that later steps read, beyond cache.outputs: exported workflows hand them to the jobs that need this step.'),
    executor: executorSchema.optional(),
  })
  .describe('A step: `run:` a script or `uses:` a registered step.');

export const pipelineKeys = ['name', 'env', 'executor', 'cache-url', 'steps'] as const;

export const pipelineSchema = z
  .strictObject({
    name: z.string().min(1).describe('The pipeline name (reports, exports).'),
    env: envSchema.optional(),
    executor: executorSchema.optional().describe('Default executor of every step (a step\'s own executor wins): local, codebuild:<project>, or { codebuild: { project, … } }.'),
    'cache-url': z
      .string()
      .regex(/^(file|s3):\/\/.+/, 'a shared cache URL: file:///path or s3://bucket/prefix')
      .optional()
      .describe('A shared cache beside the local one: file:///path or s3://bucket/prefix ($SHIPGATE_CACHE_URL wins).'),
    steps: z.record(z.string().regex(identifierPattern, 'step ids are letters, digits, _ and -, starting with a letter or _'), stepSchema).describe('The steps, by id.'),
  })
  .describe('shipgate pipeline (shipgate.yml)');

export type RawPipeline = z.infer<typeof pipelineSchema>;
export type RawStep = z.infer<typeof stepSchema>;
export type RawExecutor = z.infer<typeof executorSchema>;
