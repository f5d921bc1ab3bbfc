// Which CI is running us and what it says about the code: branch, tag, sha, event, PR number.
// Pure over the environment (and, for local runs, what git says), so every door — CLI, action,
// Jenkins, CodeBuild — hands steps the same CiContext.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import type { CiContext } from '@shipgate/protocol';

type Env = Readonly<Record<string, string | undefined>>;

/** What the local git checkout says, for runs outside CI. */
export interface GitFacts {
  branch?: string;
  sha?: string;
  tag?: string;
  defaultBranch?: string;
}

/** GitHub's event payload fields we use (the file GITHUB_EVENT_PATH points at). */
export interface GitHubEventPayload {
  pull_request?: { number?: number; head?: { ref?: string; sha?: string } };
  repository?: { default_branch?: string };
}

function refName(ref: string | undefined, prefix: string): string | undefined {
  return ref?.startsWith(prefix) ? ref.slice(prefix.length) : undefined;
}

function prune(context: CiContext): CiContext {
  return Object.fromEntries(Object.entries(context).filter(([, v]) => v !== undefined && v !== '')) as unknown as CiContext;
}

/** Reads the CI context from environment variables (and the GitHub event payload when given). */
export function detectCiContext(env: Env, git: GitFacts = {}, githubEvent?: GitHubEventPayload): CiContext {
  if (env.GITHUB_ACTIONS === 'true') {
    const event = env.GITHUB_EVENT_NAME;
    const pr = githubEvent?.pull_request?.number;
    const isPr = event === 'pull_request' || event === 'pull_request_target';
    return prune({
      provider: 'github',
      event,
      // On pull requests GITHUB_REF is refs/pull/N/merge; the branch people mean is the head ref.
      branch: isPr ? env.GITHUB_HEAD_REF : refName(env.GITHUB_REF, 'refs/heads/'),
      tag: refName(env.GITHUB_REF, 'refs/tags/'),
      sha: isPr ? (githubEvent?.pull_request?.head?.sha ?? env.GITHUB_SHA) : env.GITHUB_SHA,
      pullRequest: pr ?? (isPr ? Number(/^refs\/pull\/(\d+)\//.exec(env.GITHUB_REF ?? '')?.[1]) || undefined : undefined),
      defaultBranch: githubEvent?.repository?.default_branch,
      repository: env.GITHUB_REPOSITORY,
      runId: env.GITHUB_RUN_ID,
      actor: env.GITHUB_ACTOR,
    });
  }
  if (env.JENKINS_URL) {
    return prune({
      provider: 'jenkins',
      event: env.CHANGE_ID ? 'pull_request' : env.TAG_NAME ? 'tag' : 'push',
      branch: env.CHANGE_BRANCH ?? env.BRANCH_NAME ?? env.GIT_BRANCH?.replace(/^origin\//, ''),
      tag: env.TAG_NAME,
      sha: env.GIT_COMMIT,
      pullRequest: env.CHANGE_ID ? Number(env.CHANGE_ID) || undefined : undefined,
      defaultBranch: git.defaultBranch,
      runId: env.BUILD_TAG ?? env.BUILD_ID,
      actor: env.BUILD_USER_ID ?? env.CHANGE_AUTHOR,
    });
  }
  if (env.CODEBUILD_BUILD_ID) {
    const head = env.CODEBUILD_WEBHOOK_HEAD_REF;
    const trigger = env.CODEBUILD_WEBHOOK_TRIGGER ?? '';
    const pr = /^pr\/(\d+)$/.exec(trigger)?.[1];
    return prune({
      provider: 'codebuild',
      event: pr ? 'pull_request' : trigger.startsWith('tag/') ? 'tag' : 'push',
      branch: refName(head, 'refs/heads/') ?? (trigger.startsWith('branch/') ? trigger.slice(7) : git.branch),
      tag: refName(head, 'refs/tags/') ?? (trigger.startsWith('tag/') ? trigger.slice(4) : undefined),
      sha: env.CODEBUILD_RESOLVED_SOURCE_VERSION ?? git.sha,
      pullRequest: pr ? Number(pr) : undefined,
      defaultBranch: git.defaultBranch,
      runId: env.CODEBUILD_BUILD_ID,
      actor: env.CODEBUILD_INITIATOR,
    });
  }
  return prune({
    provider: env.GITLAB_CI === 'true' ? 'gitlab' : 'local',
    event: env.CI_PIPELINE_SOURCE ?? 'local',
    branch: env.CI_COMMIT_BRANCH ?? env.CI_MERGE_REQUEST_SOURCE_BRANCH_NAME ?? git.branch,
    tag: env.CI_COMMIT_TAG ?? git.tag,
    sha: env.CI_COMMIT_SHA ?? git.sha,
    pullRequest: env.CI_MERGE_REQUEST_IID ? Number(env.CI_MERGE_REQUEST_IID) : undefined,
    defaultBranch: env.CI_DEFAULT_BRANCH ?? git.defaultBranch,
    repository: env.CI_PROJECT_PATH,
    runId: env.CI_PIPELINE_ID,
    actor: env.GITLAB_USER_LOGIN ?? env.USER,
  });
}

const run = promisify(execFile);

async function git(cwd: string, args: string[]): Promise<string | undefined> {
  try {
    const { stdout } = await run('git', args, { cwd, timeout: 5000 });
    return stdout.trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Asks git (bounded, failures ignored) for branch, sha, exact tag and the remote's default branch. */
export async function readGitFacts(cwd: string): Promise<GitFacts> {
  const [branch, sha, tag, originHead] = await Promise.all([
    git(cwd, ['rev-parse', '--abbrev-ref', 'HEAD']),
    git(cwd, ['rev-parse', 'HEAD']),
    git(cwd, ['describe', '--tags', '--exact-match', 'HEAD']),
    git(cwd, ['symbolic-ref', '--short', 'refs/remotes/origin/HEAD']),
  ]);
  return {
    ...(branch && branch !== 'HEAD' ? { branch } : {}),
    ...(sha ? { sha } : {}),
    ...(tag ? { tag } : {}),
    ...(originHead ? { defaultBranch: originHead.replace(/^origin\//, '') } : {}),
  };
}

/**
 * When `sha` was committed (ISO 8601 with offset), as the checkout in `cwd` says; undefined where
 * git or the commit is missing (a deploy record then has no lead time, never a wrong one).
 */
export async function commitTimeOf(cwd: string, sha: string | undefined): Promise<string | undefined> {
  if (!sha || !/^[0-9a-f]{7,64}$/i.test(sha)) return undefined;
  return git(cwd, ['show', '-s', '--format=%cI', sha, '--']);
}

/** The CI context for a run started in `cwd` with `env`. */
export async function resolveCiContext(cwd: string, env: Env): Promise<CiContext> {
  let event: GitHubEventPayload | undefined;
  if (env.GITHUB_ACTIONS === 'true' && env.GITHUB_EVENT_PATH) {
    try {
      event = JSON.parse(await readFile(env.GITHUB_EVENT_PATH, 'utf8')) as GitHubEventPayload;
    } catch {
      event = undefined;
    }
  }
  const needGit = env.GITHUB_ACTIONS !== 'true';
  return detectCiContext(env, needGit ? await readGitFacts(cwd) : {}, event);
}
