// CodeDeploy revisions as shipgate builds, compares and prints them: an S3 bundle (EC2/on-prem) or
// an ECS AppSpec naming a task definition. Pure.
import type { RevisionLocation } from '@aws-sdk/client-codedeploy';

export interface S3RevisionSpec {
  bucket: string;
  key: string;
  bundleType: 'zip' | 'tar' | 'tgz' | 'YAML' | 'JSON';
  /** The S3 object version (versioned buckets): pins exactly what is deployed. */
  objectVersion?: string | undefined;
  eTag?: string | undefined;
}

export function s3Revision(spec: S3RevisionSpec): RevisionLocation {
  return {
    revisionType: 'S3',
    s3Location: {
      bucket: spec.bucket,
      key: spec.key,
      bundleType: spec.bundleType,
      ...(spec.objectVersion ? { version: spec.objectVersion } : {}),
      ...(spec.eTag ? { eTag: spec.eTag } : {}),
    },
  };
}

export interface EcsAppSpecSpec {
  taskDefinitionArn: string;
  container: string;
  port: number;
}

/** The AppSpec of an ECS blue/green deployment: JSON, which is also YAML (CodeDeploy takes either). */
export function ecsAppSpec(spec: EcsAppSpecSpec): string {
  return JSON.stringify({
    version: 0.0,
    Resources: [
      {
        TargetService: {
          Type: 'AWS::ECS::Service',
          Properties: {
            TaskDefinition: spec.taskDefinitionArn,
            LoadBalancerInfo: { ContainerName: spec.container, ContainerPort: spec.port },
          },
        },
      },
    ],
  });
}

export function ecsRevision(spec: EcsAppSpecSpec): RevisionLocation {
  return { revisionType: 'AppSpecContent', appSpecContent: { content: ecsAppSpec(spec) } };
}

/**
 * One string per distinct revision, to tell "the same revision again" from another one. An AppSpec
 * is compared by its sha256 when AWS gave one (GetDeployment never returns the content itself).
 */
export function revisionKey(revision: RevisionLocation | undefined): string {
  if (!revision) return 'none';
  const s3 = revision.s3Location;
  if (s3) return `s3://${s3.bucket}/${s3.key}#${s3.version ?? ''}#${s3.eTag ?? ''}`;
  const gh = revision.gitHubLocation;
  if (gh) return `github:${gh.repository}@${gh.commitId}`;
  const app = revision.appSpecContent ?? revision.string;
  if (app) return `appspec:${app.sha256 ?? app.content ?? ''}`;
  return `${revision.revisionType ?? 'unknown'}`;
}

/** A revision in one line for people: `s3://bucket/key (version v3)` or `task definition …:42`. */
export function describeRevision(revision: RevisionLocation | undefined): string {
  if (!revision) return '(no revision)';
  const s3 = revision.s3Location;
  if (s3) return `s3://${s3.bucket}/${s3.key}${s3.version ? ` (version ${s3.version})` : s3.eTag ? ` (eTag ${s3.eTag})` : ''}`;
  const gh = revision.gitHubLocation;
  if (gh) return `${gh.repository}@${gh.commitId?.slice(0, 12)}`;
  const content = revision.appSpecContent?.content ?? revision.string?.content;
  const taskDefinition = content ? /"?TaskDefinition"?\s*:\s*"?([^",\s}]+)/.exec(content)?.[1] : undefined;
  if (taskDefinition) return `task definition ${taskDefinition.replace(/^arn:aws[^:]*:ecs:[^:]+:\d+:task-definition\//, '')}`;
  const sha = revision.appSpecContent?.sha256 ?? revision.string?.sha256;
  return sha ? `AppSpec sha256 ${sha.slice(0, 12)}` : (revision.revisionType ?? 'revision');
}
