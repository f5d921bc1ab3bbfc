import { describe, expect, it } from '@jest/globals';
import type { TaskDefinition } from '@aws-sdk/client-ecs';
import { imageRepository, pointImageAt, rewriteTaskDefinition } from '../../src/codedeploy/task-definition.js';
import { ShipgateError } from '../../../protocol/src/errors.js';

const digest = `sha256:${'ab12'.repeat(16)}`;

describe('imageRepository', () => {
  it.each([
    ['111122223333.dkr.ecr.eu-west-1.amazonaws.com/orders:1.4.2', '111122223333.dkr.ecr.eu-west-1.amazonaws.com/orders'],
    [`111122223333.dkr.ecr.eu-west-1.amazonaws.com/orders@${digest}`, '111122223333.dkr.ecr.eu-west-1.amazonaws.com/orders'],
    [`ghcr.io/acme/orders:1.4.2@${digest}`, 'ghcr.io/acme/orders'],
    ['127.0.0.1:5000/orders:latest', '127.0.0.1:5000/orders'],
    ['127.0.0.1:5000/orders', '127.0.0.1:5000/orders'],
    ['nginx', 'nginx'],
  ])('%s → %s', (image, repository) => {
    expect(imageRepository(image)).toBe(repository);
  });
});

describe('pointImageAt', () => {
  it.each([
    ['a bare digest goes onto the current repository', 'acme/orders:1.4.1', digest, `acme/orders@${digest}`],
    ['a bare digest replaces an older digest', `acme/orders@sha256:${'0'.repeat(64)}`, digest, `acme/orders@${digest}`],
    ['a registry port survives', '127.0.0.1:5000/orders:1', digest, `127.0.0.1:5000/orders@${digest}`],
    ['a full reference is used as given', 'acme/orders:1.4.1', `other/orders@${digest}`, `other/orders@${digest}`],
    ['a tag reference is used as given', 'acme/orders:1.4.1', 'acme/orders:1.4.2', 'acme/orders:1.4.2'],
  ])('%s', (_label, current, image, expected) => {
    expect(pointImageAt(current, image)).toBe(expected);
  });

  it('refuses a digest that is not 64 hex digits', () => {
    expect(() => pointImageAt('acme/orders:1', 'sha256:abc')).toThrow(/not a sha256 digest/);
  });
});

// Shaped like DescribeTaskDefinition's taskDefinition, read-only fields included.
const current: TaskDefinition = {
  taskDefinitionArn: 'arn:aws:ecs:eu-west-1:111122223333:task-definition/orders:41',
  family: 'orders',
  revision: 41,
  status: 'ACTIVE',
  taskRoleArn: 'arn:aws:iam::111122223333:role/orders-task',
  executionRoleArn: 'arn:aws:iam::111122223333:role/ecsTaskExecutionRole',
  networkMode: 'awsvpc',
  requiresCompatibilities: ['FARGATE'],
  compatibilities: ['EC2', 'FARGATE'],
  requiresAttributes: [{ name: 'com.amazonaws.ecs.capability.ecr-auth' }],
  cpu: '512',
  memory: '1024',
  registeredAt: new Date('2026-11-01T10:00:00Z'),
  registeredBy: 'arn:aws:sts::111122223333:assumed-role/ci/run-1',
  runtimePlatform: { cpuArchitecture: 'ARM64', operatingSystemFamily: 'LINUX' },
  containerDefinitions: [
    { name: 'app', image: '111122223333.dkr.ecr.eu-west-1.amazonaws.com/orders:1.4.1', essential: true, portMappings: [{ containerPort: 8080, protocol: 'tcp' }], environment: [{ name: 'PORT', value: '8080' }] },
    { name: 'envoy', image: 'public.ecr.aws/appmesh/aws-appmesh-envoy:v1.29', essential: true },
  ],
  volumes: [],
};

describe('rewriteTaskDefinition', () => {
  it.each([
    ['a bare digest', digest, `111122223333.dkr.ecr.eu-west-1.amazonaws.com/orders@${digest}`],
    ['a full reference', `111122223333.dkr.ecr.eu-west-1.amazonaws.com/orders@${digest}`, `111122223333.dkr.ecr.eu-west-1.amazonaws.com/orders@${digest}`],
  ])('points the app container at %s and copies everything else', (_label, image, expected) => {
    const input = rewriteTaskDefinition(current, [{ key: 'team', value: 'orders' }], { container: 'app', image });
    expect(input.containerDefinitions?.[0]).toEqual({ ...current.containerDefinitions![0], image: expected });
    expect(input.containerDefinitions?.[1]).toEqual(current.containerDefinitions![1]);
    expect(input).toMatchObject({ family: 'orders', cpu: '512', memory: '1024', networkMode: 'awsvpc', requiresCompatibilities: ['FARGATE'], tags: [{ key: 'team', value: 'orders' }] });
  });

  it('leaves out what RegisterTaskDefinition refuses (read-only fields)', () => {
    const input = rewriteTaskDefinition(current, undefined, { container: 'app', image: digest });
    for (const field of ['taskDefinitionArn', 'revision', 'status', 'requiresAttributes', 'compatibilities', 'registeredAt', 'registeredBy']) expect(input).not.toHaveProperty(field);
    expect(input).not.toHaveProperty('tags');
  });

  it('does not change the task definition it was given', () => {
    const before = structuredClone(current);
    rewriteTaskDefinition(current, undefined, { container: 'app', image: digest });
    expect(current).toEqual(before);
  });

  it('names the containers when the one asked for is not there', () => {
    const error = (() => {
      try {
        rewriteTaskDefinition(current, undefined, { container: 'web', image: digest });
      } catch (e) {
        return e as ShipgateError;
      }
      throw new Error('no error');
    })();
    expect(error.code).toBe('codedeploy.container');
    expect(error.message).toMatch(/no container "web"/);
    expect(error.hint).toMatch(/app, envoy/);
  });
});
