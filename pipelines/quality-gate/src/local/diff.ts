// The lines a change adds or modifies, relative to where it branched off: `git diff` against the
// merge-base of the base ref and HEAD (what a pull request shows), working-tree changes to tracked
// files included so a local run before committing sees them too. Renames are followed: a moved file's
// unchanged lines are not new. Parsing the diff is pure; running git is injected.
import path from 'node:path';
import { ShipgateError, ExitCode } from '@shipgate/protocol';
import type { ProcessRunner } from '@shipgate/protocol';

/** Repository-relative path → changed (added or modified) line numbers in the new version. */
export type ChangedLines = Map<string, Set<number>>;

/** Reads `git diff --unified=0` output: the `+++ b/…` file names and the `@@ … +start,count @@` hunks. */
export function parseUnifiedDiff(text: string): ChangedLines {
  const changed: ChangedLines = new Map();
  let current: Set<number> | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('+++ ')) {
      const target = line.slice(4).replace(/\t.*$/, '');
      if (target === '/dev/null') {
        current = undefined; // a deleted file adds nothing
      } else {
        const file = unquote(target).replace(/^b\//, '');
        current = changed.get(file) ?? new Set();
        changed.set(file, current);
      }
      continue;
    }
    const hunk = /^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@/.exec(line);
    if (hunk && current) {
      const start = Number(hunk[1]);
      const count = hunk[2] === undefined ? 1 : Number(hunk[2]);
      for (let n = start; n < start + count; n += 1) current.add(n);
    }
  }
  for (const [file, lines] of changed) if (lines.size === 0) changed.delete(file);
  return changed;
}

/** git quotes paths with unusual characters ("b/caf\303\251.ts"); undo that. */
function unquote(name: string): string {
  if (!name.startsWith('"')) return name;
  const bytes: number[] = [];
  const body = name.slice(1, -1);
  for (let i = 0; i < body.length; i += 1) {
    const c = body[i]!;
    if (c !== '\\') {
      bytes.push(...Buffer.from(c, 'utf8'));
      continue;
    }
    const next = body[i + 1]!;
    if (/[0-7]/.test(next)) {
      bytes.push(parseInt(body.slice(i + 1, i + 4), 8));
      i += 3;
    } else {
      bytes.push(({ n: 10, t: 9, '"': 34, '\\': 92 } as Record<string, number>)[next] ?? next.charCodeAt(0));
      i += 1;
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

async function git(runner: ProcessRunner, cwd: string, args: string[]): Promise<{ ok: boolean; stdout: string; stderr: string }> {
  const result = await runner.exec('git', args, { cwd, quiet: true, timeoutMs: 30_000 });
  return { ok: result.exitCode === 0, stdout: result.stdout, stderr: result.stderr.trim() };
}

export interface ChangedSince {
  /** The repository's top directory (diff paths are relative to it). */
  root: string;
  mergeBase: string;
  /** The ref the merge-base was taken with (`origin/main`). */
  base: string;
  changed: ChangedLines;
}

/**
 * The lines changed since the merge-base of `bases[0]` (or the first of `bases` that resolves) and
 * HEAD. Several candidates let the default be "origin/main, else main".
 */
export async function changedLinesSince(runner: ProcessRunner, cwd: string, bases: readonly string[]): Promise<ChangedSince> {
  const top = await git(runner, cwd, ['rev-parse', '--show-toplevel']);
  if (!top.ok) {
    throw new ShipgateError('quality-gate.not-a-repository', `coverage on changed lines needs a git checkout, and ${cwd} is not in one`, {
      exitCode: ExitCode.usage,
      hint: 'run in a git clone, or drop local.coverage.new-lines-min',
    });
  }
  const root = top.stdout.trim();
  for (const base of bases) {
    const mergeBase = await git(runner, cwd, ['merge-base', base, 'HEAD']);
    if (!mergeBase.ok) continue;
    const sha = mergeBase.stdout.trim();
    const diff = await git(runner, root, ['diff', '--unified=0', '--no-color', '--no-ext-diff', '--find-renames', sha, '--']);
    if (!diff.ok) {
      throw new ShipgateError('quality-gate.git-diff', `git diff ${sha} failed: ${diff.stderr}`, { exitCode: ExitCode.failed, hint: 'is the checkout complete?' });
    }
    return { root, mergeBase: sha, base, changed: parseUnifiedDiff(diff.stdout) };
  }
  throw new ShipgateError('quality-gate.base-ref', `no merge-base between HEAD and ${bases.join(' or ')}`, {
    exitCode: ExitCode.usage,
    hint: 'fetch the base branch (actions/checkout with fetch-depth: 0, or git fetch origin main), or set local.coverage.base',
  });
}

/** Re-keys changed lines by the paths an lcov file uses (absolute, or relative to `lcovRoot`). */
export function rekeyForLcov(changed: ChangedSince, lcovFiles: Iterable<string>, lcovRoot: string): Map<string, Set<number>> {
  const byAbsolute = new Map<string, Set<number>>();
  for (const [file, lines] of changed.changed) byAbsolute.set(path.resolve(changed.root, file), lines);
  const out = new Map<string, Set<number>>();
  for (const file of lcovFiles) {
    const lines = byAbsolute.get(path.resolve(lcovRoot, file));
    if (lines) out.set(file, lines);
  }
  return out;
}
