// `shipgate image tags` and the step's `tags` command read the CI context from the environment.
import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cli } from '../../../test/helpers.js';
import { imageStep } from '../../src/image/index.js';
import { runStepInProcess } from '../../../core/src/executors/local.js';

const github = { GITHUB_ACTIONS: 'true', GITHUB_EVENT_NAME: 'push', GITHUB_REF: 'refs/tags/v1.4.2', GITHUB_SHA: 'abcdef0123456789abcdef0123456789abcdef01', GITHUB_REPOSITORY: 'acme/orders' };

describe('image tags from the CI context', () => {
  it('CLI: one reference per line, and JSON with labels', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sg-tags-'));
    try {
      const r = await cli(['image', 'tags', '--image', 'ghcr.io/acme/orders'], dir, github);
      expect(r).toMatchObject({ code: 0, err: '' });
      expect(r.out.trim().split('\n')).toEqual(['1.4.2', '1.4', '1', 'sha-abcdef0', 'latest'].map((t) => `ghcr.io/acme/orders:${t}`));
      const j = await cli(['image', 'tags', '--image', 'ghcr.io/acme/orders', '--tags', 'type=sha,format=long', '--flavor', 'latest=false', '--label', 'team=core', '--json'], dir, github);
      const parsed = JSON.parse(j.out);
      expect(parsed.tags).toEqual([`ghcr.io/acme/orders:sha-${github.GITHUB_SHA}`]);
      expect(parsed.labels).toMatchObject({ team: 'core', 'org.opencontainers.image.source': 'https://github.com/acme/orders', 'org.opencontainers.image.revision': github.GITHUB_SHA });
      const bad = await cli(['image', 'tags', '--image', 'x.example/y', '--tags', 'type=semver'], dir, github);
      expect(bad.code).toBe(2);
      expect(bad.err).toContain('needs pattern= [image.bad-tag-rule]');
      expect(bad.err).not.toMatch(/\n\s+at /);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('step: outputs tags / labels / version newline-separated, and a summary', async () => {
    const result = await runStepInProcess(imageStep, { image: 'registry.example.com/orders', tags: 'type=ref,event=pr\ntype=sha' }, { ci: { provider: 'github', pullRequest: 7, branch: 'feat', sha: '1234567890abcdef1234567890abcdef12345678' } });
    expect(result.status).toBe('success');
    expect(result.outputs.tags).toBe('registry.example.com/orders:pr-7\nregistry.example.com/orders:sha-1234567');
    expect(result.outputs.version).toBe('pr-7');
    expect(result.outputs.labels!.split('\n')).toContain('org.opencontainers.image.revision=1234567890abcdef1234567890abcdef12345678');
    expect(result.summaries.join('')).toContain('`registry.example.com/orders:pr-7`');
  });

  it('step: a bad command input is named', async () => {
    const result = await runStepInProcess(imageStep, { command: 'deploy', image: 'x' });
    expect(result.error).toMatchObject({ code: 'step.inputs', message: expect.stringContaining('command') });
  });
});
