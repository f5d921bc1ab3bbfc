import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { commitTimeOf, detectCiContext, readGitFacts } from '../../src/ci/detect.js';

describe('detectCiContext', () => {
  it.each([
    [
      'GitHub push to a branch',
      { GITHUB_ACTIONS: 'true', GITHUB_EVENT_NAME: 'push', GITHUB_REF: 'refs/heads/main', GITHUB_SHA: 'abc123', GITHUB_REPOSITORY: 'acme/orders', GITHUB_RUN_ID: '7', GITHUB_ACTOR: 'ada' },
      { repository: { default_branch: 'main' } },
      { provider: 'github', event: 'push', branch: 'main', sha: 'abc123', repository: 'acme/orders', runId: '7', actor: 'ada', defaultBranch: 'main' },
    ],
    [
      'GitHub tag push',
      { GITHUB_ACTIONS: 'true', GITHUB_EVENT_NAME: 'push', GITHUB_REF: 'refs/tags/v1.2.3', GITHUB_SHA: 'def' },
      undefined,
      { provider: 'github', event: 'push', tag: 'v1.2.3', sha: 'def' },
    ],
    [
      'GitHub pull request (head branch and head sha, not the merge ref)',
      { GITHUB_ACTIONS: 'true', GITHUB_EVENT_NAME: 'pull_request', GITHUB_REF: 'refs/pull/42/merge', GITHUB_HEAD_REF: 'feature/x', GITHUB_SHA: 'merge-sha' },
      { pull_request: { number: 42, head: { sha: 'head-sha' } } },
      { provider: 'github', event: 'pull_request', branch: 'feature/x', sha: 'head-sha', pullRequest: 42 },
    ],
    [
      'Jenkins multibranch change request',
      { JENKINS_URL: 'http://jenkins', BRANCH_NAME: 'PR-9', CHANGE_ID: '9', CHANGE_BRANCH: 'fix/y', GIT_COMMIT: 'c0ffee', BUILD_TAG: 'jenkins-orders-9' },
      undefined,
      { provider: 'jenkins', event: 'pull_request', branch: 'fix/y', pullRequest: 9, sha: 'c0ffee', runId: 'jenkins-orders-9' },
    ],
    [
      'CodeBuild webhook on a tag',
      { CODEBUILD_BUILD_ID: 'proj:1', CODEBUILD_WEBHOOK_HEAD_REF: 'refs/tags/v2.0.0', CODEBUILD_WEBHOOK_TRIGGER: 'tag/v2.0.0', CODEBUILD_RESOLVED_SOURCE_VERSION: 'beef' },
      undefined,
      { provider: 'codebuild', event: 'tag', tag: 'v2.0.0', sha: 'beef', runId: 'proj:1' },
    ],
    [
      'CodeBuild pull request',
      { CODEBUILD_BUILD_ID: 'proj:2', CODEBUILD_WEBHOOK_HEAD_REF: 'refs/heads/feat', CODEBUILD_WEBHOOK_TRIGGER: 'pr/17' },
      undefined,
      { provider: 'codebuild', event: 'pull_request', branch: 'feat', pullRequest: 17, runId: 'proj:2' },
    ],
  ])('%s', (_name, env, event, expected) => {
    expect(detectCiContext(env, {}, event)).toEqual(expected);
  });

  it('falls back to what git says for local runs', () => {
    expect(detectCiContext({ USER: 'dev' }, { branch: 'main', sha: 'aaa', defaultBranch: 'main' })).toEqual({
      provider: 'local', event: 'local', branch: 'main', sha: 'aaa', defaultBranch: 'main', actor: 'dev',
    });
  });
});

describe('readGitFacts', () => {
  it('reads branch, sha and an exact tag from a real repository', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sg-git-'));
    try {
      const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, encoding: 'utf8' }).trim();
      git('init', '-q', '-b', 'trunk');
      writeFileSync(path.join(dir, 'a.txt'), 'a');
      git('add', '.');
      git('-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-qm', 'one');
      git('tag', 'v0.1.0');
      expect(await readGitFacts(dir)).toEqual({ branch: 'trunk', sha: git('rev-parse', 'HEAD'), tag: 'v0.1.0' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('commitTimeOf', () => {
  it("reads the commit's time (DORA lead time's start) from a real repository; nothing for an unknown or malformed sha", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sg-git-'));
    try {
      const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, encoding: 'utf8', env: { ...process.env, GIT_COMMITTER_DATE: '2026-03-01T10:15:00+01:00', GIT_AUTHOR_DATE: '2026-02-28T09:00:00Z' } }).trim();
      git('init', '-q', '-b', 'trunk');
      writeFileSync(path.join(dir, 'a.txt'), 'a');
      git('add', '.');
      git('-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-qm', 'one');
      const sha = git('rev-parse', 'HEAD');
      // the committer's time (when it landed on the branch), not the author's
      expect(await commitTimeOf(dir, sha)).toBe('2026-03-01T10:15:00+01:00');
      expect(await commitTimeOf(dir, sha.slice(0, 12))).toBe('2026-03-01T10:15:00+01:00');
      expect(await commitTimeOf(dir, 'f'.repeat(40))).toBeUndefined();
      expect(await commitTimeOf(dir, '--help')).toBeUndefined();
      expect(await commitTimeOf(dir, undefined)).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
