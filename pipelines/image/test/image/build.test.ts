import { describe, expect, it } from '@jest/globals';
import { buildCommands, digestFromPushOutput, type BuildPlan } from '../../src/image/build.js';

const base: BuildPlan = {
  builder: 'buildx',
  context: '.',
  tags: ['r.example/app:1.0.0', 'r.example/app:latest'],
  labels: { 'org.opencontainers.image.revision': 'abc' },
  buildArgs: { NODE_VERSION: '24' },
  cacheFrom: ['type=registry,ref=r.example/app:cache'],
  cacheTo: ['type=registry,ref=r.example/app:cache,mode=max'],
  platforms: ['linux/amd64', 'linux/arm64'],
  metadataFile: '/tmp/meta.json',
};

describe('buildCommands', () => {
  it('buildx: one command that builds, tags, caches and pushes', () => {
    expect(buildCommands({ ...base, file: 'Dockerfile.prod', target: 'runtime' }).map((c) => c.args)).toEqual([
      [
        'buildx', 'build', '--push',
        '--file', 'Dockerfile.prod',
        '--tag', 'r.example/app:1.0.0', '--tag', 'r.example/app:latest',
        '--label', 'org.opencontainers.image.revision=abc',
        '--build-arg', 'NODE_VERSION=24',
        '--target', 'runtime',
        '--cache-from', 'type=registry,ref=r.example/app:cache',
        '--cache-to', 'type=registry,ref=r.example/app:cache,mode=max',
        '--platform', 'linux/amd64,linux/arm64',
        '--metadata-file', '/tmp/meta.json',
        '.',
      ],
    ]);
  });

  it('classic docker: build with every tag, then push each', () => {
    expect(buildCommands({ ...base, builder: 'docker', cacheTo: [], platforms: [] }).map((c) => c.args)).toEqual([
      ['build', '--tag', 'r.example/app:1.0.0', '--tag', 'r.example/app:latest', '--label', 'org.opencontainers.image.revision=abc', '--build-arg', 'NODE_VERSION=24', '--cache-from', 'type=registry,ref=r.example/app:cache', '.'],
      ['push', 'r.example/app:1.0.0'],
      ['push', 'r.example/app:latest'],
    ]);
  });

  it('an existing image: tag and push, no build', () => {
    expect(buildCommands({ ...base, sourceImage: 'app:local' }).map((c) => c.args)).toEqual([
      ['tag', 'app:local', 'r.example/app:1.0.0'],
      ['tag', 'app:local', 'r.example/app:latest'],
      ['push', 'r.example/app:1.0.0'],
      ['push', 'r.example/app:latest'],
    ]);
  });

  it('classic docker refuses what only buildx can do, saying so', () => {
    expect(() => buildCommands({ ...base, builder: 'docker', cacheTo: [] })).toThrow(expect.objectContaining({ code: 'image.needs-buildx', message: expect.stringContaining('linux/amd64,linux/arm64') }));
    expect(() => buildCommands({ ...base, builder: 'docker', platforms: [] })).toThrow(expect.objectContaining({ code: 'image.needs-buildx', message: expect.stringContaining('cache-to') }));
    expect(() => buildCommands({ ...base, tags: [] })).toThrow(expect.objectContaining({ code: 'image.no-tags' }));
  });

  it('reads the digest docker push prints', () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    expect(digestFromPushOutput(`The push refers to repository [r.example/app]\nabc: Pushed\nlatest: digest: ${digest} size: 528\n`)).toBe(digest);
    expect(digestFromPushOutput('nothing')).toBeUndefined();
  });
});
