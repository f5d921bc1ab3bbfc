// `uses: codedeploy` — deploys a revision with AWS CodeDeploy and follows it to the end: an S3
// bundle to EC2 / on-premises instances, or an ECS blue/green deployment of a new task definition
// revision whose container runs the image the `image` step pushed. Stops (and rolls back) on
// timeout and on cancel; records the outcome (deployments.jsonl, the Slack app). This file holds
// only the inputs: the AWS SDK and the deployment logic load when the step runs.
import * as z from 'zod';
import { defineStep, type StepContext } from '@shipgate/protocol';
import { ExitCode, ShipgateError } from '@shipgate/protocol';
import { parseDuration } from '@shipgate/protocol';
import { describedDuration } from '@shipgate/protocol';
import { commitTimeOf, deployerFrom, recordDeployment } from '@shipgate/core';

const duration = describedDuration;

export const codedeployInputs = z
  .strictObject({
    operation: z.enum(['deploy', 'rollback']).default('deploy').describe('deploy a revision, or rollback: redeploy the deployment group’s last good revision.'),
    application: z.string().min(1).describe('The CodeDeploy application.'),
    'deployment-group': z.string().min(1).describe('The deployment group of the application (one per environment, usually).'),
    region: z.string().optional().describe('AWS region; default AWS_REGION.'),
    endpoint: z.url().optional().describe('A custom endpoint (a VPC endpoint, LocalStack).'),
    bucket: z.string().optional().describe('EC2/on-premises: the S3 bucket of the revision bundle.'),
    key: z.string().optional().describe('EC2/on-premises: the S3 key of the revision bundle.'),
    'bundle-type': z.enum(['zip', 'tar', 'tgz', 'YAML', 'JSON']).default('zip').describe('EC2/on-premises: the bundle format.'),
    'object-version': z.string().optional().describe('EC2/on-premises: the S3 object version (pins exactly what is deployed).'),
    etag: z.string().optional().describe('EC2/on-premises: the S3 ETag of the bundle.'),
    'task-definition': z.string().optional().describe('ECS: the current task definition (family, family:revision or ARN); copied into a new revision.'),
    container: z.string().optional().describe('ECS: the container whose image changes and that takes the traffic.'),
    'container-port': z.number().int().min(1).max(65535).optional().describe('ECS: the container port the load balancer routes to.'),
    image: z.string().optional().describe('ECS: the image to run: a full reference or a bare sha256: digest (e.g. ${{ steps.image.outputs.digest }}).'),
    service: z.string().optional().describe('Deploy record: the service name (default: the application).'),
    environment: z.string().optional().describe('Deploy record: the environment (default: the deployment group).'),
    version: z.string().optional().describe('Deploy record: the version deployed (default: the git tag or short sha).'),
    digest: z.string().optional().describe('Deploy record: the image digest deployed.'),
    description: z.string().optional().describe('Description of the deployment in CodeDeploy.'),
    'deployment-config': z.string().optional().describe('A deployment configuration other than the group’s, e.g. CodeDeployDefault.OneAtATime.'),
    timeout: duration('30m', 'Stop the deployment (with automatic rollback) if it has not finished after this long.'),
    'poll-interval': duration('15s', 'Time between status checks.'),
    'rollback-timeout': duration('15m', 'How long to follow CodeDeploy’s automatic rollback after a failure.'),
  })
  .superRefine((inputs, ctx) => {
    const s3 = inputs.bucket !== undefined || inputs.key !== undefined;
    const ecs = inputs['task-definition'] !== undefined || inputs.container !== undefined || inputs.image !== undefined || inputs['container-port'] !== undefined;
    if (inputs.operation === 'rollback') {
      if (s3 || ecs) ctx.addIssue({ code: 'custom', path: ['operation'], message: 'a rollback redeploys an earlier succeeded revision: leave out bucket, key, task-definition, container, container-port and image' });
      return;
    }
    if (s3 === ecs) {
      ctx.addIssue({ code: 'custom', path: [], message: 'give either bucket + key (an S3 revision for EC2/on-premises) or task-definition + container + container-port + image (ECS blue/green)' });
      return;
    }
    const need = s3 ? (['bucket', 'key'] as const) : (['task-definition', 'container', 'container-port', 'image'] as const);
    for (const field of need) if (inputs[field] === undefined) ctx.addIssue({ code: 'custom', path: [field], message: `required with ${s3 ? 'an S3 revision' : 'an ECS deployment'}` });
  });
export type CodeDeployInputs = z.output<typeof codedeployInputs>;

/** The version a deploy record names when the input does not: the git tag, else the short sha. */
export function versionOf(inputs: Pick<CodeDeployInputs, 'version' | 'image' | 'object-version'>, ci: { tag?: string | undefined; sha?: string | undefined }): string {
  if (inputs.version) return inputs.version;
  if (ci.tag) return ci.tag;
  if (ci.sha) return ci.sha.slice(0, 12);
  const tag = inputs.image && !inputs.image.includes('@') ? /:([^/:]+)$/.exec(inputs.image)?.[1] : undefined;
  return tag ?? inputs['object-version'] ?? 'unknown';
}

/** The digest a deploy record names: the input, else the one the ECS image is pinned to. */
export function digestOf(inputs: Pick<CodeDeployInputs, 'digest' | 'image'>): string | undefined {
  return inputs.digest ?? /(?:^|@)(sha256:[0-9a-f]{64})$/.exec(inputs.image ?? '')?.[1];
}

/** The CI's commit and when it was made, as far as the checkout knows. */
async function commitOf(ctx: StepContext<CodeDeployInputs>): Promise<{ commit?: string; commitAt?: string }> {
  const sha = ctx.ci.sha;
  if (!sha || !/^[0-9a-f]{7,64}$/i.test(sha)) return {};
  const commitAt = await commitTimeOf(ctx.workspace, sha);
  return { commit: sha, ...(commitAt ? { commitAt } : {}) };
}

async function run(ctx: StepContext<CodeDeployInputs>): Promise<void> {
  const { deployCodeDeploy } = await import('./deploy.js');
  const { inputs } = ctx;
  const revision = inputs.bucket
    ? { kind: 's3' as const, bucket: inputs.bucket, key: inputs.key!, bundleType: inputs['bundle-type'], objectVersion: inputs['object-version'], eTag: inputs.etag }
    : { kind: 'ecs' as const, taskDefinition: inputs['task-definition']!, container: inputs.container!, port: inputs['container-port']!, image: inputs.image! };
  const region = inputs.region ?? ctx.env.AWS_REGION ?? ctx.env.AWS_DEFAULT_REGION;
  const record = {
    service: inputs.service ?? inputs.application,
    environment: inputs.environment ?? inputs['deployment-group'],
    version: versionOf(inputs, ctx.ci),
    ...(digestOf(inputs) ? { digest: digestOf(inputs) } : {}),
    ...(inputs.image ? { image: inputs.image } : {}),
    ...(deployerFrom(ctx.env, ctx.ci.actor) ? { deployer: deployerFrom(ctx.env, ctx.ci.actor) } : {}),
    rollback: { kind: 'codedeploy' as const, application: inputs.application, deploymentGroup: inputs['deployment-group'], ...(region ? { region } : {}) },
    via: 'codedeploy',
    // DORA's lead time starts at the deployed revision's commit (a deploy, not a rollback, ships it)
    ...(inputs.operation !== 'rollback' ? await commitOf(ctx) : {}),
  };
  const tell: Tell = async (fields) => {
    const told = await recordDeployment({ ...record, ...fields }, { stateDir: ctx.stateDir, env: ctx.env, signal: AbortSignal.timeout(20_000) });
    if (told.warning) ctx.logger.warn(told.warning);
  };

  if (inputs.operation === 'rollback') return rollback(ctx, tell);

  let deploymentId: string | undefined;
  let result;
  try {
    result = await deployCodeDeploy({
      application: inputs.application,
      deploymentGroup: inputs['deployment-group'],
      region: inputs.region,
      endpoint: inputs.endpoint,
      env: ctx.env,
      revision,
      description: inputs.description ?? `shipgate ${ctx.stepId}: ${record.service} ${record.version}${ctx.ci.sha ? ` (${ctx.ci.sha.slice(0, 12)})` : ''}`,
      deploymentConfigName: inputs['deployment-config'],
      timeoutMs: parseDuration(inputs.timeout),
      pollIntervalMs: parseDuration(inputs['poll-interval']),
      rollbackTimeoutMs: parseDuration(inputs['rollback-timeout']),
      signal: ctx.signal,
      onCreated: (id) => {
        deploymentId = id;
        ctx.setOutput('deployment-id', id);
      },
      log: (line) => ctx.logger.info(line),
    });
  } catch (error) {
    // Cancelled or broken after CodeDeploy accepted the deployment: still a deployment to record.
    if (deploymentId) await tell({ outcome: 'failed', deploymentId, detail: ctx.signal.aborted ? 'cancelled; stopped with automatic rollback' : (error as Error).message }).catch(() => {});
    throw error;
  }

  ctx.setOutput('deployment-id', result.deploymentId);
  ctx.setOutput('status', result.status);
  ctx.setOutput('outcome', result.outcome);
  ctx.setOutput('url', result.url);
  if (result.taskDefinitionArn) ctx.setOutput('task-definition-arn', result.taskDefinitionArn);
  if (result.rollbackDeploymentId) ctx.setOutput('rollback-deployment-id', result.rollbackDeploymentId);
  const detail = result.rollbackDeploymentId ? `rolled back by ${result.rollbackDeploymentId} (${result.rollbackStatus})` : result.error;
  await tell({ outcome: result.outcome, deploymentId: result.deploymentId, url: result.url, ...(detail ? { detail } : {}) });
  ctx.summary(
    [
      `### CodeDeploy ${inputs.application}/${inputs['deployment-group']}: ${result.status}${result.timedOut ? ' (timed out)' : ''}`,
      '',
      '| deployment | revision | outcome |',
      '| --- | --- | --- |',
      `| [${result.deploymentId}](${result.url}) | ${record.version} | ${result.outcome}${detail ? ` — ${detail}` : ''} |`,
      ...result.failures.slice(0, 10).map((f) => `\n- \`${f.targetId}\` ${f.event}: ${[f.errorCode, f.message].filter(Boolean).join(': ')}`),
    ].join('\n'),
  );
  if (result.status === 'Succeeded') return;
  const failedTargets = result.failures.length ? `; ${result.failures.length} failed lifecycle event(s) above` : '';
  throw new ShipgateError(
    result.timedOut ? 'codedeploy.timeout' : 'codedeploy.failed',
    result.timedOut
      ? `deployment ${result.deploymentId} did not finish within ${inputs.timeout}: stopped, ${result.outcome === 'rolled-back' ? `rolled back by ${result.rollbackDeploymentId}` : 'rollback requested'}`
      : `deployment ${result.deploymentId} ${result.status.toLowerCase()}${result.error ? `: ${result.error}` : ''}${result.rollbackDeploymentId ? ` (rolled back by ${result.rollbackDeploymentId}: ${result.rollbackStatus})` : ''}${failedTargets}`,
    { exitCode: ExitCode.failed, hint: result.timedOut ? 'raise `timeout`, or find what holds the deployment in the CodeDeploy console' : `see the lifecycle events above and ${result.url}` },
  );
}

type Tell = (fields: { outcome: 'succeeded' | 'failed' | 'rolled-back'; deploymentId?: string; url?: string; detail?: string; version?: string; rollbackOf?: string }) => Promise<void>;

/** `operation: rollback` — rollbackCodeDeploy, recorded as rolled-back (or failed). */
async function rollback(ctx: StepContext<CodeDeployInputs>, tell: Tell): Promise<void> {
  const { rollbackCodeDeploy } = await import('./rollback.js');
  const { inputs } = ctx;
  const result = await rollbackCodeDeploy({
    application: inputs.application,
    deploymentGroup: inputs['deployment-group'],
    region: inputs.region,
    endpoint: inputs.endpoint,
    env: ctx.env,
    timeoutMs: parseDuration(inputs.timeout),
    pollIntervalMs: parseDuration(inputs['poll-interval']),
    signal: ctx.signal,
    log: (line) => ctx.logger.info(line),
  });
  const succeeded = result.status === 'Succeeded';
  ctx.logger.info(result.message);
  ctx.setOutput('deployment-id', result.deploymentId);
  ctx.setOutput('status', result.status);
  ctx.setOutput('outcome', succeeded ? 'rolled-back' : 'failed');
  ctx.setOutput('url', result.url);
  ctx.setOutput('rolled-back-to', result.to.deploymentId);
  // The record names what now runs: the version given, else the revision gone back to.
  // rollbackOf marks it a restore, not a new change, for DORA (whatever the version names)
  await tell({ outcome: succeeded ? 'rolled-back' : 'failed', deploymentId: result.deploymentId, url: result.url, detail: result.message, version: inputs.version ?? result.to.description, rollbackOf: result.from.deploymentId ?? 'unknown' });
  ctx.summary(`### CodeDeploy rollback ${inputs.application}/${inputs['deployment-group']}: ${result.status}\n\n${result.message}`);
  if (!succeeded) {
    throw new ShipgateError(result.timedOut ? 'codedeploy.timeout' : 'codedeploy.failed', result.message, { exitCode: ExitCode.failed, hint: `see ${result.url}` });
  }
}

export const codedeployStep = defineStep({
  name: 'codedeploy',
  description: 'Deploys with AWS CodeDeploy (S3 revision to EC2/on-premises, or ECS blue/green with a new task definition) and follows it to the end.',
  inputs: codedeployInputs,
  outputs: {
    'deployment-id': 'the CodeDeploy deployment id',
    status: 'Succeeded, Failed or Stopped',
    outcome: 'succeeded, failed or rolled-back',
    url: 'the deployment in the AWS console',
    'task-definition-arn': 'ECS: the task definition revision registered',
    'rollback-deployment-id': 'the deployment CodeDeploy rolled back with, if any',
    'rolled-back-to': 'operation rollback: the earlier deployment whose revision was deployed again',
  },
  run,
});
