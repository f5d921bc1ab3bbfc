// The plain data the Slack app works on: approvals, deployments, and where a decision must go.
// The zod schemas are the HTTP API's contract (see README.md) and the single source of the types.
import { canonicalJson } from '@shipgate/protocol';
import * as z from 'zod';

export const approvalStates = ['pending', 'approved', 'rejected', 'expired'] as const;
export type ApprovalState = (typeof approvalStates)[number];

const nonEmpty = z.string().trim().min(1).max(200);

/**
 * A link a pipeline gives (a build, a job): http or https only, and none of the characters that
 * end a link or start a mention in Slack's mrkdwn (`<https://x|label>`), nor spaces.
 */
export const linkSchema = z
  .string()
  .max(2000)
  .refine((value) => /^https?:\/\/[^\s<>|]+$/i.test(value) && URL.canParse(value), 'an http(s) URL without spaces, "<", ">" or "|"');

/** A GitHub `owner/name`: no `.` or `..` segments that would walk out of the API path. */
const repositorySchema = z.string().regex(/^(?!\.\.?\/)[\w.-]+\/(?!\.\.?$)[\w.-]+$/, 'owner/name');

/** Who is told of a decision. */
export const backendSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('shipgate') }),
  z.object({ kind: z.literal('codepipeline'), pipeline: nonEmpty, stage: nonEmpty, action: nonEmpty, region: nonEmpty.optional() }),
  z.object({ kind: z.literal('jenkins'), buildUrl: linkSchema, inputId: nonEmpty }),
  z.object({
    kind: z.literal('github'),
    repository: repositorySchema,
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
  z.object({ kind: z.literal('jenkins'), jobUrl: linkSchema }),
]);
export type RollbackSpec = z.infer<typeof rollbackSpecSchema>;

export const deploymentOutcomes = ['succeeded', 'failed', 'rolled-back'] as const;
export type DeploymentOutcome = (typeof deploymentOutcomes)[number];

/** Characters of a deploy record's `reason`: one line for a Slack message, not a log. */
export const maxDeploymentReason = 1000;

export const deploymentRequestSchema = z.object({
  service: nonEmpty,
  environment: nonEmpty,
  version: nonEmpty,
  digest: nonEmpty.optional(),
  image: z.string().trim().min(1).max(1000).optional(),
  outcome: z.enum(deploymentOutcomes),
  deployer: nonEmpty.optional(),
  url: linkSchema.optional(),
  /** The run's report page (report.html where CI publishes it): a link like `url`. */
  reportUrl: linkSchema.optional(),
  rollback: rollbackSpecSchema.optional(),
  /** The deployed revision's commit and when it was made (ISO 8601): DORA's lead time starts there. */
  commit: z.string().regex(/^[0-9a-f]{7,64}$/i, 'a git commit sha (7 to 64 hex digits)').optional(),
  commitAt: z.iso.datetime({ offset: true, message: 'an ISO 8601 time with offset, e.g. 2026-03-01T10:00:00Z' }).optional(),
  /** Why this outcome, for people: a verify step's failing check (name, value, limit). Shown escaped. */
  reason: z.string().trim().min(1).max(maxDeploymentReason).optional(),
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
  /** The deployed revision's commit and its time, when the pipeline said. */
  commit: string | null;
  commitAt: Date | null;
  /** Why this outcome, as the pipeline said (a verify step's failing check). */
  reason: string | null;
}

/**
 * The fields in which a request differs from the approval its idempotency key already made: an
 * empty list is a retry of the same request, anything else is another request reusing the key.
 */
export function differingFields(request: ApprovalRequest, approval: Approval): string[] {
  const asked: Record<string, unknown> = { service: request.service, environment: request.environment, version: request.version, digest: request.digest ?? null, summary: request.summary ?? null, requester: request.requester ?? null, expiresInSeconds: request.expiresInSeconds, backend: request.backend };
  const made: Record<string, unknown> = { service: approval.service, environment: approval.environment, version: approval.version, digest: approval.digest, summary: approval.summary, requester: approval.requester, expiresInSeconds: Math.round((approval.expiresAt.getTime() - approval.createdAt.getTime()) / 1000), backend: approval.backend };
  // canonical JSON: jsonb reorders keys, so equal values must compare equal whatever their key order
  return Object.keys(asked).filter((k) => canonicalJson(asked[k]) !== canonicalJson(made[k]));
}
