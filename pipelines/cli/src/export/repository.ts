// What the exporters ask git about the repository shipgate.yml lives in: its default branch (the
// branch whose pushes run an exported workflow) and the files a fresh checkout has. Every question
// is bounded in time and has a fallback, so an export never fails for want of git.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

async function git(cwd: string, args: string[]): Promise<string | undefined> {
  return run('git', args, { cwd, timeout: 5000, maxBuffer: 64 * 1024 * 1024 }).then(
    ({ stdout }) => stdout.trim() || undefined,
    () => undefined,
  );
}

/**
 * The repository's default branch, in this order: the remote's HEAD (`origin/HEAD`, what a clone
 * records), git's `init.defaultBranch`, the branch checked out, and `main`.
 */
export async function defaultBranchOf(cwd: string): Promise<string> {
  const remoteHead = await git(cwd, ['symbolic-ref', '--quiet', '--short', 'refs/remotes/origin/HEAD']);
  if (remoteHead?.startsWith('origin/')) return remoteHead.slice('origin/'.length);
  return (await git(cwd, ['config', '--get', 'init.defaultBranch'])) ?? (await git(cwd, ['symbolic-ref', '--quiet', '--short', 'HEAD'])) ?? 'main';
}

/** Files git tracks under `cwd`, relative to it: what a fresh checkout has. Undefined outside a git repository. */
export async function checkoutFiles(cwd: string): Promise<string[] | undefined> {
  const listed = await run('git', ['ls-files', '-z'], { cwd, timeout: 10_000, maxBuffer: 256 * 1024 * 1024 }).then(
    ({ stdout }) => stdout,
    () => undefined,
  );
  return listed === undefined ? undefined : listed.split('\0').filter(Boolean);
}
