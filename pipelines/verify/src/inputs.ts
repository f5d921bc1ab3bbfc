// The `with:` inputs of `uses: verify`. Each check's PromQL is parsed here, so a malformed query is
// a config error at `shipgate validate` with the file:line:col of the query in shipgate.yml.
import * as z from 'zod';
import { describedDuration, durationInput } from '@shipgate/protocol';
import { promqlSyntaxError } from './promql.js';
import { templateVariablesOf } from './template.js';

const checkSchema = z
  .strictObject({
    name: z.string().min(1).describe('Shown in the table and named when it fails.'),
    query: z.string().min(1).describe('PromQL giving one number, e.g. an error ratio; {{ version }} and the other variables are filled in, quoted.'),
    max: z.number().optional().describe('Fail above this.'),
    min: z.number().optional().describe('Fail below this.'),
    range: z.tuple([z.number(), z.number()]).optional().describe('Fail outside [low, high].'),
    baseline: z
      .strictObject({
        margin: z.number().min(0).describe('How much worse than the previous version is tolerated, relative (0.1 = 10%).'),
        better: z.enum(['lower', 'higher']).default('lower').describe('Which way is better: lower (errors, latency) or higher (throughput).'),
      })
      .optional()
      .describe('Compare with the same query for `baseline-version` (its {{ version }}).'),
  })
  .superRefine((check, ctx) => {
    if (check.max === undefined && check.min === undefined && check.range === undefined && check.baseline === undefined) {
      ctx.addIssue({ code: 'custom', path: [], message: `check "${check.name}" needs a limit: max, min, range or baseline` });
    }
    if (check.range && check.range[0] > check.range[1]) ctx.addIssue({ code: 'custom', path: ['range'], message: 'range is [low, high]: low must not be above high' });
    const problem = promqlSyntaxError(check.query);
    if (problem) ctx.addIssue({ code: 'custom', path: ['query'], message: problem.message });
    if (check.baseline && !templateVariablesOf(check.query).includes('version')) {
      ctx.addIssue({ code: 'custom', path: ['baseline'], message: 'a baseline check runs its query for the previous version: put {{ version }} in the query' });
    }
  });
export type CheckInput = z.output<typeof checkSchema>;

const awsTarget = { region: z.string().optional().describe('AWS region; default AWS_REGION.'), endpoint: z.url().optional().describe('A custom endpoint.') };

const onFailureSchema = z
  .strictObject({
    codedeploy: z.strictObject({ application: z.string().min(1), 'deployment-group': z.string().min(1), ...awsTarget }).optional().describe('Redeploy the deployment group’s last good revision.'),
    image: z
      .strictObject({ repository: z.string().min(1).describe('registry/repository'), environment: z.string().optional().describe('Default: the step’s environment.'), tag: z.string().optional(), insecure: z.boolean().optional() })
      .optional()
      .describe('Move the environment’s image tag back to the previous good digest (registry API).'),
    codepipeline: z.strictObject({ pipeline: z.string().min(1), stage: z.string().min(1), ...awsTarget }).optional().describe('Roll the stage back to its previous succeeded execution.'),
  })
  .describe('The rollbacks to run when the verdict is failed (all that are named, in this order: codepipeline, codedeploy, image).');

export const verifyInputs = z
  .strictObject({
    prometheus: z.url({ protocol: /^https?$/ }).describe('Prometheus base URL. Auth from env: PROMETHEUS_TOKEN (bearer) or PROMETHEUS_USERNAME + PROMETHEUS_PASSWORD (basic); masked.'),
    checks: z.array(checkSchema).min(1).describe('What to judge on each evaluation.'),
    interval: describedDuration('1m', 'Time between evaluations.'),
    count: z.number().int().min(1).max(1000).default(5).describe('Evaluations in all (bake time = initial-delay + (count − 1) × interval).'),
    'failure-limit': z.number().int().min(0).default(0).describe('Failed evaluations tolerated; one more fails the release at once.'),
    'inconclusive-limit': z.number().int().min(0).default(0).describe('Evaluations without a number tolerated (Prometheus down, query error, no data, NaN).'),
    'initial-delay': durationInput.optional().describe('Wait before the first evaluation (let the new version take traffic). Default: none.'),
    'query-timeout': describedDuration('10s', 'Per query attempt (3 attempts with back-off).'),
    'allow-inconclusive': z.boolean().default(false).describe('Let an inconclusive verdict pass the step (it fails by default; never rolls back).'),
    version: z.string().optional().describe('{{ version }}: the version under test (default: the git tag or short sha); also the deploy record’s.'),
    environment: z.string().optional().describe('{{ environment }}; also the deploy record’s.'),
    service: z.string().optional().describe('{{ service }}; the deploy record’s service (default: the rollback target’s name).'),
    'baseline-version': z.string().optional().describe('The previous version: baseline checks run their query with it as {{ version }}.'),
    variables: z.record(z.string(), z.string()).optional().describe('More template variables.'),
    'on-failure': onFailureSchema.optional(),
  })
  .superRefine((inputs, ctx) => {
    for (const [i, check] of inputs.checks.entries()) {
      if (check.baseline && !inputs['baseline-version']) ctx.addIssue({ code: 'custom', path: ['checks', i, 'baseline'], message: 'a baseline check needs the step input baseline-version' });
    }
  });
export type VerifyInputs = z.output<typeof verifyInputs>;
export type OnFailure = NonNullable<VerifyInputs['on-failure']>;
