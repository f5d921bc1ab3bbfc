// ECS blue/green: the new task definition revision is a copy of the current one with one
// container's image pointed at the digest the `image` step pushed. Pure functions over the shapes
// of DescribeTaskDefinition's answer and RegisterTaskDefinition's request.
import type { ContainerDefinition, RegisterTaskDefinitionCommandInput, Tag, TaskDefinition } from '@aws-sdk/client-ecs';
import { ShipgateError } from '@shipgate/protocol';

const digestPattern = /^sha256:[0-9a-f]{64}$/;

/** `registry/repo:tag@sha256:…` → `registry/repo` (a registry port's colon is kept). */
export function imageRepository(image: string): string {
  const withoutDigest = image.split('@')[0]!;
  const lastSlash = withoutDigest.lastIndexOf('/');
  const lastColon = withoutDigest.lastIndexOf(':');
  return lastColon > lastSlash ? withoutDigest.slice(0, lastColon) : withoutDigest;
}

/**
 * The image the new revision runs. `image` is a full reference (`…/orders@sha256:…`, `…/orders:1.4.2`)
 * used as given, or a bare digest (`sha256:…`) applied to the repository the container runs now.
 */
export function pointImageAt(currentImage: string, image: string): string {
  const wanted = image.trim();
  if (digestPattern.test(wanted)) return `${imageRepository(currentImage)}@${wanted}`;
  if (wanted.startsWith('sha256:')) {
    throw new ShipgateError('codedeploy.image', `image "${wanted}" is not a sha256 digest (64 hex digits)`, { hint: 'pass the digest the image step output, e.g. ${{ steps.image.outputs.digest }}' });
  }
  return wanted;
}

// Only what RegisterTaskDefinition accepts: DescribeTaskDefinition also returns read-only fields
// (taskDefinitionArn, revision, status, requiresAttributes, compatibilities, registeredAt…) that
// RegisterTaskDefinition rejects, and an allow-list keeps working when AWS adds more of those.
const copiedFields = [
  'family',
  'taskRoleArn',
  'executionRoleArn',
  'networkMode',
  'volumes',
  'placementConstraints',
  'requiresCompatibilities',
  'cpu',
  'memory',
  'pidMode',
  'ipcMode',
  'proxyConfiguration',
  'inferenceAccelerators',
  'ephemeralStorage',
  'runtimePlatform',
  'enableFaultInjection',
] as const satisfies readonly (keyof TaskDefinition & keyof RegisterTaskDefinitionCommandInput)[];

export interface TaskDefinitionChange {
  /** The container whose image changes (the one CodeDeploy routes traffic to). */
  container: string;
  /** A full image reference or a bare `sha256:` digest. */
  image: string;
}

/** RegisterTaskDefinition's input: `current` (with its `tags`) copied, one container's image changed. */
export function rewriteTaskDefinition(current: TaskDefinition, tags: Tag[] | undefined, change: TaskDefinitionChange): RegisterTaskDefinitionCommandInput {
  const containers = current.containerDefinitions ?? [];
  const target = containers.find((c) => c.name === change.container);
  if (!target) {
    throw new ShipgateError('codedeploy.container', `task definition ${current.family ?? current.taskDefinitionArn} has no container "${change.container}"`, {
      hint: `containers: ${containers.map((c) => c.name).join(', ') || '(none)'}; set the input \`container\` to one of them`,
    });
  }
  if (!target.image) throw new ShipgateError('codedeploy.container', `container "${change.container}" has no image to replace`, { hint: 'check the task definition in the ECS console' });
  if (!current.family) throw new ShipgateError('codedeploy.task-definition', 'DescribeTaskDefinition returned no family', { hint: 'name the task definition by family or ARN' });
  const input: RegisterTaskDefinitionCommandInput = { family: current.family, containerDefinitions: [] };
  for (const field of copiedFields) {
    if (current[field] !== undefined) (input as unknown as Record<string, unknown>)[field] = structuredClone(current[field]);
  }
  input.containerDefinitions = containers.map((c): ContainerDefinition => (c === target ? { ...structuredClone(c), image: pointImageAt(target.image!, change.image) } : structuredClone(c)));
  if (tags && tags.length > 0) input.tags = structuredClone(tags);
  return input;
}
