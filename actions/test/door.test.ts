// The door's pure parts: the run's context from @actions/github's view of an event, input kinds,
// and the job summary.
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ciContextFromGitHub, readInput, renderSummary, type InputKind } from '../src/door.js';
import { fixtures } from './runner.js';

const payload = (name: string) => JSON.parse(readFileSync(path.join(fixtures, 'events', `${name}.json`), 'utf8')) as Record<string, unknown>;
const env = { GITHUB_REPOSITORY: 'acme/orders-service', GITHUB_HEAD_REF: 'feature/payment-retry' };

describe('ciContextFromGitHub', () => {
  it.each([
    ['push', { eventName: 'push', ref: 'refs/heads/main', sha: '4f1c2d3e4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d' }, { event: 'push', branch: 'main', sha: '4f1c2d3e4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d', defaultBranch: 'main' }],
    ['tag-push', { eventName: 'push', ref: 'refs/tags/v1.4.2', sha: '4f1c2d3e4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d' }, { event: 'push', tag: 'v1.4.2', sha: '4f1c2d3e4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d' }],
    ['pull_request', { eventName: 'pull_request', ref: 'refs/pull/42/merge', sha: 'e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4' }, { event: 'pull_request', branch: 'feature/payment-retry', pullRequest: 42, sha: 'd4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3' }],
  ])('%s', (name, facts, expected) => {
    const ci = ciContextFromGitHub({ ...facts, runId: 12345678901, actor: 'monalisa', payload: payload(name) }, env);
    expect(ci).toMatchObject({ provider: 'github', repository: 'acme/orders-service', runId: '12345678901', actor: 'monalisa', ...expected });
    if (name === 'tag-push') expect(ci.branch).toBeUndefined();
  });
});

describe('readInput', () => {
  const from = (value: string) => () => value;
  it.each<[InputKind, string, unknown]>([
    ['string', 'orders', 'orders'],
    ['string', '', undefined],
    ['secret', 'xoxb-1', 'xoxb-1'],
    ['number', '30', 30],
    ['boolean', 'true', true],
    ['boolean', 'False', false],
    ['json', '{"kind":"shipgate"}', { kind: 'shipgate' }],
    ['json', '["a"]', ['a']],
    ['lines', 'db/**/*.sql\n\n  scripts/migrate.mjs  \r\n', ['db/**/*.sql', 'scripts/migrate.mjs']],
  ])('%s %j → %j', (kind, text, expected) => {
    expect(readInput('x', kind, from(text))).toEqual(expected);
  });
  it.each<[InputKind, string, RegExp]>([
    ['number', 'soon', /input x must be a number, got "soon"/],
    ['boolean', 'maybe', /input x must be true or false/],
    ['json', '{kind: shipgate}', /input x must be JSON/],
  ])('%s %j is refused with the input named', (kind, text, message) => {
    expect(() => readInput('x', kind, from(text))).toThrow(message);
  });
});

describe('renderSummary', () => {
  it('shows the step\'s Markdown, the outputs with secrets masked, and the error', () => {
    const md = renderSummary(
      'image',
      { status: 'failure', outputs: { tags: 'a:1\na:latest', url: 'https://x/?token=s3cret' }, summaries: ['### Image tags\n\n- `a:1`'], durationMs: 1, error: { code: 'image.push', message: 'push failed (s3cret)', hint: 'docker login' } },
      ['s3cret'],
    );
    expect(md).toContain('## ❌ shipgate image: failure');
    expect(md).toContain('### Image tags');
    expect(md).toContain('| tags | a:1<br>a:latest |');
    expect(md).toContain('| url | https://x/?token=*** |');
    expect(md).toContain('**image.push**: push failed (***)');
    expect(md).toContain('hint: docker login');
    expect(md).not.toContain('s3cret');
  });
});
