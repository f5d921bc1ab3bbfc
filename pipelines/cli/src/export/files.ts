// Which files travel between the jobs of an exported pipeline. `shipgate run` runs every step in
// one checkout, so a step simply finds what the steps before it wrote; on GitHub Actions and in a
// CodeBuild batch every step runs on a fresh machine. Two kinds of files cross that gap:
//   * the dependencies: every job installs them itself, once (the install command). A step whose
//     script IS an install (`npm ci`, `pnpm install --frozen-lockfile`, …) is the install step:
//     its command is the jobs' install, and its outputs never travel (each job has its own);
//   * what a step declares it writes, `cache.outputs` and `artifacts:`: uploaded by its job and
//     downloaded by every job that (transitively) needs it.
// A step that reads files (its `cache.inputs`) that another job writes but does not declare, or
// that it does not need, is told about in a warning: the exporter cannot ship what it cannot see.
import path from 'node:path';
import type { PipelineSpec, StepSpec } from '@shipgate/core';
import { ShipgateError } from '@shipgate/protocol';

/**
 * Bounds of an export, checked before anything is built: a job per step, and a download per
 * upstream producer in every job, grow past what the targets run long before memory runs out
 * (GitHub does not start a workflow file over 500 KB).
 */
export const exportBounds = { steps: 1000, downloads: 5000 } as const;

/** Scripts that install a project's dependencies (the whole script, one command). */
const installScript = /^(npm (ci|install|i)|pnpm (install|i)|yarn( install)?|bun install)(\s+[-\w=.@/]+)*$/;

export interface InstallPlan {
  /** The command every job runs once before its step (empty: none). */
  command: string;
  /** The pipeline's own install step, whose job runs the install as its step (and not twice). */
  stepId?: string;
}

/**
 * npm's install for a checkout: `npm ci` needs a lock file and fails without one, so a repository
 * that keeps none gets `npm install`; one without a package.json gets none. Unknown checkout: `npm ci`.
 */
export function npmInstallFor(checkout: readonly string[] | undefined, ci: string): string {
  if (!checkout) return ci;
  if (checkout.includes('package-lock.json') || checkout.includes('npm-shrinkwrap.json')) return ci;
  return checkout.includes('package.json') ? 'npm install --no-audit --no-fund' : '';
}

/** The jobs' install: `explicit` if given, else the pipeline's install step's script, else `fallback`. */
export function installPlan(spec: PipelineSpec, explicit: string | undefined, fallback: string): InstallPlan {
  const installers = spec.steps.filter((s) => s.uses === 'run' && !s.matrix && typeof s.with.script === 'string' && installScript.test(s.with.script.trim()));
  const step = installers.length === 1 ? installers[0]! : undefined;
  const command = explicit ?? (step ? String(step.with.script).trim() : fallback);
  // the install step is only "the install" when its script is what every job runs anyway
  return step && String(step.with.script).trim() === command ? { command, stepId: step.id } : { command };
}

/** A glob relative to the pipeline's directory (steps' globs are relative to their working directory). */
function fromPipelineDir(step: StepSpec, glob: string): string {
  return path.posix.normalize(path.posix.join(step.workingDirectory ?? '.', glob));
}

/** The files a step says it writes, relative to the pipeline's directory. */
export function declaredFiles(step: StepSpec): string[] {
  return [...new Set([...(step.cache?.outputs ?? []), ...(step.artifacts ?? [])].map((g) => fromPipelineDir(step, g)))];
}

/** Hides a leading dot of each segment, so that node's matchesGlob (which skips dotfiles) matches them as tinyglobby's `dot: true` does. */
function showDotfiles(text: string): string {
  return text
    .split('/')
    .map((s) => (s.startsWith('.') && s !== '.' && s !== '..' ? `\uE000${s.slice(1)}` : s))
    .join('/');
}

/** Whether a path matches a glob, dotfiles included (the engine's cache globs match them too). */
export function matchesGlob(file: string, glob: string): boolean {
  return path.matchesGlob(showDotfiles(file), showDotfiles(glob));
}

/** The path segments of a glob before its first wildcard segment: `dist/**` → `dist`. */
function fixedPart(glob: string): string[] {
  const segments = glob.split('/');
  const at = segments.findIndex((s) => /[*?[\]{}!]/.test(s));
  return segments.slice(0, at === -1 ? segments.length : at).filter((s) => s !== '.');
}

/** Whether two globs may name a common file, as far as their fixed directories and each other's paths show. */
export function globsOverlap(a: string, b: string): boolean {
  const [fa, fb] = [fixedPart(a), fixedPart(b)];
  if (fa.length && fb.length) {
    // `dist/**` and `dist/lib/a.js` may; `dist/**` and `src/**` cannot
    const n = Math.min(fa.length, fb.length);
    return fa.slice(0, n).join('/') === fb.slice(0, n).join('/');
  }
  // one of them starts with a wildcard (`**/*.js`): it overlaps where it matches the other's fixed path
  return matchesGlob(fb.join('/') || b, a) || matchesGlob(fa.join('/') || a, b);
}

/** Every step each step needs, directly or through others (in dependency order, without recursion: pipelines can be long). */
export function upstreamClosure(spec: PipelineSpec): Map<string, Set<string>> {
  const waiting = new Map(spec.steps.map((s) => [s.id, s.needs.length]));
  const dependents = new Map<string, string[]>(spec.steps.map((s) => [s.id, []]));
  for (const step of spec.steps) for (const need of step.needs) dependents.get(need)?.push(step.id);
  const byId = new Map(spec.steps.map((s) => [s.id, s]));
  const closure = new Map<string, Set<string>>();
  const ready = spec.steps.filter((s) => s.needs.length === 0).map((s) => s.id);
  while (ready.length) {
    const id = ready.pop()!;
    const all = new Set<string>();
    for (const need of byId.get(id)!.needs) {
      all.add(need);
      for (const further of closure.get(need) ?? []) all.add(further);
    }
    closure.set(id, all);
    for (const next of dependents.get(id)!) {
      const left = waiting.get(next)! - 1;
      waiting.set(next, left);
      if (left === 0) ready.push(next);
    }
  }
  // a validated pipeline has no cycle; were one left, its steps count as needing nothing
  for (const step of spec.steps) if (!closure.has(step.id)) closure.set(step.id, new Set());
  return closure;
}

export interface FileFlow {
  /** Steps whose declared files some later job downloads: step id → globs relative to the pipeline's directory. */
  uploads: Map<string, string[]>;
  /** Step id → the steps whose files its job downloads, in pipeline order. */
  downloads: Map<string, string[]>;
  warnings: string[];
}

export interface FileFlowOptions {
  install: InstallPlan;
  /**
   * Files of the repository (relative to the pipeline's directory) a fresh checkout has, e.g. from
   * `git ls-files`. With it, a `cache.inputs` glob that matches none of them and no upstream
   * step's declared files is reported: the job will not have those files.
   */
  checkout?: readonly string[] | undefined;
}

export function fileFlow(spec: PipelineSpec, options: FileFlowOptions): FileFlow {
  if (spec.steps.length > exportBounds.steps) {
    throw new ShipgateError('export.too-large', `${spec.steps.length} steps are more than an export carries (at most ${exportBounds.steps}: a job each)`, {
      hint: 'split the pipeline, or run it with shipgate run (one machine) or the CodeBuild executor',
    });
  }
  const upstream = upstreamClosure(spec);
  const declared = new Map(spec.steps.filter((s) => s.id !== options.install.stepId).map((s) => [s.id, declaredFiles(s)]));
  const installed = options.install.stepId ? declaredFiles(spec.steps.find((s) => s.id === options.install.stepId)!) : [];
  const uploads = new Map<string, string[]>();
  const downloads = new Map<string, string[]>();
  const warnings: string[] = [];
  let transfers = 0;

  for (const step of spec.steps) {
    const before = upstream.get(step.id)!;
    const from = spec.steps.filter((s) => before.has(s.id) && declared.get(s.id)?.length).map((s) => s.id);
    if (from.length) downloads.set(step.id, from);
    transfers += from.length;
    if (transfers > exportBounds.downloads) {
      throw new ShipgateError('export.too-large', `the jobs would download more than ${exportBounds.downloads} artifacts (every job gets the declared files of every step before it; "${step.id}" alone needs ${from.length})`, {
        hint: 'declare cache.outputs / artifacts: only on the steps whose files later steps read',
      });
    }
    for (const id of from) uploads.set(id, declared.get(id)!);

    for (const input of (step.cache?.inputs ?? []).map((g) => fromPipelineDir(step, g))) {
      // files another step writes, from a step this one does not wait for: their order is luck
      const writers = spec.steps.filter((s) => s.id !== step.id && !before.has(s.id) && (declared.get(s.id) ?? []).some((g) => globsOverlap(g, input)));
      for (const writer of writers) {
        warnings.push(`step "${step.id}" reads ${input} (cache.inputs), which step "${writer.id}" writes, but does not need "${writer.id}": its job may start before those files exist, and will not get them (add needs: [${writer.id}])`);
      }
      if (!options.checkout || writers.length) continue;
      const provided =
        [...before].some((id) => (declared.get(id) ?? []).some((g) => globsOverlap(g, input))) ||
        installed.some((g) => globsOverlap(g, input)) ||
        (options.install.command !== '' && fixedPart(input).includes('node_modules')); // every job installs them
      if (!provided && !options.checkout.some((file) => matchesGlob(file, input))) {
        warnings.push(
          `step "${step.id}" reads ${input} (cache.inputs), which no file in the repository matches and no step it needs declares: a fresh job will not have it (declare the files in cache.outputs or artifacts: of the step that writes them)`,
        );
      }
    }
  }
  return { uploads, downloads, warnings };
}
