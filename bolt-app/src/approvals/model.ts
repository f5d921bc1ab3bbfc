// The plain data the Slack app works on: approvals, deployments, and where a decision must go.
// The zod schemas are the HTTP API's contract (see README.md) and the single source of the types.
import { z } from 'zod';

export const approvalStates = ['pending', 'approved', 'rejected', 'expired'] as const;
export type ApprovalState = (typeof approvalStates)[number];

const nonEmpty = z.string().trim().min(1).max(200);

/** Who is told of a decision. */
export const backendSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('shipgate') }),
  z.object({ kind: z.literal('codepipeline'), pipeline: nonEmpty, stage: nonEmpty, action: nonEmpty, region: nonEmpty.optional() }),
  z.object({ kind: z.literal('jenkins'), buildUrl: z.url().max(2000), inputId: nonEmpty }),
  z.object({
    kind: z.literal('github'),
    repository: z.string().regex(/^[\w.-]+\/[\w.-]+$/, 'owner/name'),
    runId: z.union([z.number().int().positive(), z.string().regex(/^\d+$/)]).transform(Number),
    environmentIds: z.array(z.number().int().positive()).min(1),
  }),
]);
export type ApprovalBackend = z.infer<typeof backendSchema>;

export const approvalRequestSchema = z.object({
  service: nonEmpty,
  environment: nonEmpty,
  version: nonEmpty,
  digest: nonEmpty.optional(),
  summary: z.string().max(2000).optional(),
  requester: nonEmpty.optional(),
  expiresInSeconds: z.number().int().min(10).max(7 * 24 * 3600).default(3600),
  idempotencyKey: nonEmpty.optional(),
  backend: backendSchema,
});
export type ApprovalRequest = z.infer<typeof approvalRequestSchema>;

/** How a deployment is undone. */
export const rollbackSpecSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('image'), repository: nonEmpty, environment: nonEmpty }),
  z.object({ kind: z.literal('codedeploy'), application: nonEmpty, deploymentGroup: nonEmpty, region: nonEmpty.optional() }),
  z.object({ kind: z.literal('jenkins'), jobUrl: z.url().max(2000) }),
]);
export type RollbackSpec = z.infer<typeof rollbackSpecSchema>;

export const deploymentOutcomes = ['succeeded', 'failed', 'rolled-back'] as const;
export type DeploymentOutcome = (typeof deploymentOutcomes)[number];

export const deploymentRequestSchema = z.object({
  service: nonEmpty,
  environment: nonEmpty,
  version: nonEmpty,
  digest: nonEmpty.optional(),
  image: z.string().trim().min(1).max(1000).optional(),
  outcome: z.enum(deploymentOutcomes),
  deployer: nonEmpty.optional(),
  url: z.url().max(2000).optional(),
  /** The run's report page (report.html where CI publishes it); only http(s), so the message never links elsewhere. */
  reportUrl: z.url({ protocol: /^https?$/, error: 'reportUrl must be an http or https URL' }).max(2000).optional(),
  rollback: rollbackSpecSchema.optional(),
});
export type DeploymentRequest = z.infer<typeof deploymentRequestSchema>;

export interface Approval {
  id: string;
  service: string;
  environment: string;
  version: string;
  digest: string | null;
  summary: string | null;
  requester: string | null;
  idempotencyKey: string | null;
  backend: ApprovalBackend;
  state: ApprovalState;
  createdAt: Date;
  expiresAt: Date;
  decidedBy: string | null;
  decidedAt: Date | null;
  reason: string | null;
  channel: string | null;
  messageTs: string | null;
}

export type RollbackState = 'requested' | 'succeeded' | 'failed';

export interface Deployment {
  id: string;
  /** Insertion order: breaks ties between deployments recorded in the same millisecond. */
  seq: number;
  service: string;
  environment: string;
  version: string;
  digest: string | null;
  image: string | null;
  outcome: DeploymentOutcome;
  deployer: string | null;
  url: string | null;
  /** The run's report page, linked from the deployment message. */
  reportUrl: string | null;
  rollback: RollbackSpec | null;
  /** The approval this deployment went out under (same service, environment and version). */
  approvalId: string | null;
  createdAt: Date;
  channel: string | null;
  messageTs: string | null;
  /** Set once someone asked to roll this deployment back (at most once). */
  rollbackState: RollbackState | null;
  rollbackBy: string | null;
  rollbackAt: Date | null;
  rollbackTargetId: string | null;
  rollbackDetail: string | null;
  /** When this record is itself a rollback, the deployment it undid. */
  rollbackOf: string | null;
}
