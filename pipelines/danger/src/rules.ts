// Danger rules for pull requests (https://danger.systems/js). In a dangerfile:
//
//   import { shipgateRules } from '@shipgate/danger';
//   await shipgateRules();
//
// Each rule is also exported on its own. Rules get the `danger` object and the reporting functions
// Danger provides as globals (or stand-ins in tests), and read the checked-out head of the PR from
// disk where they need file contents.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parsePipeline } from '@shipgate/core';
import { isShipgateError } from '@shipgate/protocol';
import type { StepRegistry } from '@shipgate/protocol';
import { loadPlugins } from '@shipgate/cli';
import { defaultRegistry } from '@shipgate/cli';

/** The part of Danger's `danger.git` the rules use. */
export interface DangerGit {
  modified_files: readonly string[];
  created_files: readonly string[];
  deleted_files: readonly string[];
  /** Lines added + removed (Danger's `linesOfCode`). */
  linesOfCode?: () => Promise<number | null>;
}

export interface DangerLike {
  git: DangerGit;
}

/** Danger's reporting functions (`fail`, `warn`, `message`, `markdown`). */
export interface DangerReporter {
  fail(message: string, file?: string, line?: number): void;
  warn(message: string, file?: string, line?: number): void;
  message(message: string, file?: string, line?: number): void;
  markdown(markdown: string): void;
}

export interface ShipgateDangerOptions {
  /** Folders of migrations. Default: db/migrations, migrations, prisma/migrations, src/migrations. */
  migrations?: readonly string[];
  /** Init data that must change with them: seed folders or files and the schema snapshot. Default: db/seed, db/seeds, seed, seeds, prisma/seed.ts, and any *.snapshot or seed* file beside a migrations folder. */
  initData?: readonly string[];
  /** Warn when a PR changes more lines than this. Default 600. */
  largePrLines?: number;
  /** Where the PR's head is checked out. Default: the current directory. */
  cwd?: string;
  /** The run report whose step summaries (the quality-gate table) are posted. Default .shipgate/report.json. */
  report?: string;
  /** The steps a shipgate.yml may use. Default: the built-in steps and the installed plugins'. */
  registry?: StepRegistry;
}

const defaults = {
  migrations: ['db/migrations', 'migrations', 'prisma/migrations', 'src/migrations'],
  initData: ['db/seed', 'db/seeds', 'seed', 'seeds', 'prisma/seed.ts', 'prisma/seed.js'],
  largePrLines: 600,
  report: '.shipgate/report.json',
};

const under = (file: string, folder: string) => file === folder || file.startsWith(`${folder.replace(/\/$/, '')}/`);
const touched = (danger: DangerLike) => [...danger.git.modified_files, ...danger.git.created_files, ...danger.git.deleted_files];

/**
 * A change under a migrations folder must come with a change to the init data: the seed, or the
 * schema snapshot (`shipgate db check --update`). Otherwise everyone's fresh database drifts.
 */
export function migrationsNeedInitData(danger: DangerLike, report: DangerReporter, options: ShipgateDangerOptions = {}): boolean {
  const folders = options.migrations ?? defaults.migrations;
  const files = touched(danger);
  const migrationChanges = files.filter((f) => folders.some((m) => under(f, m)));
  if (migrationChanges.length === 0) return true;
  const initData = options.initData ?? defaults.initData;
  const besideMigrations = (f: string) => folders.some((m) => path.posix.dirname(m.replace(/\/$/, '')) === path.posix.dirname(f) && /(\.snapshot$|^seed)/.test(path.posix.basename(f)));
  const initChanges = files.filter((f) => initData.some((d) => under(f, d)) || besideMigrations(f) || f.endsWith('schema.snapshot'));
  if (initChanges.length > 0) return true;
  report.fail(
    `This PR changes migrations (${migrationChanges.join(', ')}) but not the seed / init data or the schema snapshot. ` +
      'Update the seed so fresh databases stay in step with the schema, then run `shipgate db check --migrations … --seed … --update` and commit the snapshot.',
  );
  return false;
}

const isTest = (f: string) => /(^|\/)(test|tests|__tests__|spec)\//.test(f) || /\.(test|spec)\.[cm]?[jt]sx?$/.test(f);
const isSource = (f: string) => /(^|\/)src\//.test(f) && /\.[cm]?[jt]sx?$/.test(f) && !isTest(f);

/** Source changed without any test changed: a warning. */
export function testsWithSource(danger: DangerLike, report: DangerReporter): boolean {
  const files = [...danger.git.modified_files, ...danger.git.created_files];
  const sources = files.filter(isSource);
  if (sources.length === 0 || files.some(isTest)) return true;
  report.warn(`Source changed (${sources.length} file${sources.length === 1 ? '' : 's'}) but no test did. If behaviour changed, add or update a test.`);
  return false;
}

/** A very large PR: a warning (reviews of big changes miss things). */
export async function largePr(danger: DangerLike, report: DangerReporter, options: ShipgateDangerOptions = {}): Promise<boolean> {
  const limit = options.largePrLines ?? defaults.largePrLines;
  const lines = (await danger.git.linesOfCode?.()) ?? null;
  if (lines === null || lines <= limit) return true;
  report.warn(`This PR changes ${lines} lines (more than ${limit}). Consider splitting it; big reviews miss things.`);
  return false;
}

type DependencyMap = Record<string, string>;
const dependencyFields = ['dependencies', 'devDependencies', 'optionalDependencies', 'peerDependencies'] as const;

function readJson(file: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/**
 * package.json and package-lock.json must agree: every package.json the PR touches is compared,
 * field by field, with its entry in the lockfile (npm lockfile v2/v3 `packages`).
 */
export function lockfileInStep(danger: DangerLike, report: DangerReporter, options: ShipgateDangerOptions = {}): boolean {
  const cwd = options.cwd ?? process.cwd();
  const manifests = [...danger.git.modified_files, ...danger.git.created_files].filter((f) => path.posix.basename(f) === 'package.json');
  const lockChanged = touched(danger).some((f) => path.posix.basename(f) === 'package-lock.json');
  let ok = true;
  for (const manifest of manifests) {
    // the lockfile that covers this package: the nearest package-lock.json above it
    let dir = path.posix.dirname(manifest);
    let lockDir: string | undefined;
    for (let i = 0; i < 20; i += 1) {
      if (existsSync(path.join(cwd, dir, 'package-lock.json'))) {
        lockDir = dir;
        break;
      }
      if (dir === '.' || dir === '') break;
      dir = path.posix.dirname(dir);
    }
    if (lockDir === undefined) continue; // no npm lockfile (yarn, pnpm, or none)
    const lock = readJson(path.join(cwd, lockDir, 'package-lock.json')) as { packages?: Record<string, Record<string, unknown>> } | undefined;
    const pkg = readJson(path.join(cwd, manifest));
    if (!lock?.packages || !pkg) continue;
    const entry = lock.packages[path.posix.relative(lockDir, path.posix.dirname(manifest))]; // '' is the root package
    const lockFile = path.posix.join(lockDir, 'package-lock.json');
    if (!entry) {
      report.fail(`${manifest} is not in ${lockFile}. Run \`npm install\` and commit the lockfile.`, manifest);
      ok = false;
      continue;
    }
    for (const field of dependencyFields) {
      const wanted = (pkg[field] ?? {}) as DependencyMap;
      const locked = (entry[field] ?? {}) as DependencyMap;
      const differ = [...new Set([...Object.keys(wanted), ...Object.keys(locked)])].filter((name) => wanted[name] !== locked[name]);
      if (differ.length === 0) continue;
      const detail = differ.slice(0, 5).map((n) => `${n} (package.json: ${wanted[n] ?? 'absent'}, lockfile: ${locked[n] ?? 'absent'})`).join(', ');
      report.fail(`${manifest} ${field} and ${lockFile} disagree: ${detail}${differ.length > 5 ? ` and ${differ.length - 5} more` : ''}. Run \`npm install\` and commit ${lockChanged ? 'the updated' : 'the'} lockfile.`, manifest);
      ok = false;
    }
  }
  return ok;
}

/** Every shipgate.yml the PR touches must be valid; each problem is reported at its file and line. */
export function validPipeline(danger: DangerLike, report: DangerReporter, options: ShipgateDangerOptions = {}): boolean {
  const cwd = options.cwd ?? process.cwd();
  const files = [...danger.git.modified_files, ...danger.git.created_files].filter((f) => /(^|\/)([\w.-]+\.)?shipgate\.ya?ml$/.test(f));
  let ok = true;
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(path.join(cwd, file), 'utf8');
    } catch {
      continue;
    }
    try {
      parsePipeline(text, path.join(cwd, file), { registry: options.registry ?? defaultRegistry(), displayFile: file });
    } catch (error) {
      if (!isShipgateError(error)) throw error;
      for (const e of [error, ...error.related]) {
        const where = e.location ? `${e.location.file}:${e.location.line}:${e.location.column}: ` : `${file}: `;
        report.fail(`${where}${e.message} [${e.code}]${e.hint ? ` — ${e.hint}` : ''}`, e.location?.file ?? file, e.location?.line);
      }
      ok = false;
    }
  }
  return ok;
}

/**
 * When the pipeline ran before Danger (a shipgate run in the same job), the summaries its steps
 * wrote — the quality-gate table first among them — are posted as one comment.
 */
export function qualityGateComment(report: DangerReporter, options: ShipgateDangerOptions = {}): boolean {
  const file = path.resolve(options.cwd ?? process.cwd(), options.report ?? defaults.report);
  const run = readJson(file) as { pipeline?: string; outcome?: string; invocations?: Array<{ id: string; stepId: string; summaries?: string[] }> } | undefined;
  const withSummaries = (run?.invocations ?? []).filter((i) => i.summaries && i.summaries.length > 0);
  if (withSummaries.length === 0) return false;
  // the quality-gate step's summary opens with "### Quality gate" whatever the step is called (sonar:, gate:, …)
  const isGate = (i: { stepId: string; summaries?: string[] }) => /gate/.test(i.stepId) || i.summaries!.some((s) => /^#{1,6} Quality gate/m.test(s));
  const gateFirst = [...withSummaries].sort((a, b) => Number(isGate(b)) - Number(isGate(a)));
  report.markdown([`### shipgate: ${run?.pipeline ?? 'pipeline'} — ${run?.outcome ?? 'unknown'}`, ...gateFirst.flatMap((i) => ['', `#### ${i.id}`, '', ...i.summaries!])].join('\n'));
  return true;
}

/** All the rules. With no arguments it uses Danger's globals (`danger`, `fail`, `warn`, `message`, `markdown`). */
export async function shipgateRules(options: ShipgateDangerOptions = {}, danger?: DangerLike, report?: DangerReporter): Promise<void> {
  const g = globalThis as unknown as Partial<DangerReporter> & { danger?: DangerLike };
  const dsl = danger ?? g.danger;
  if (!dsl) throw new Error('shipgateRules() runs inside a dangerfile (no `danger` object found)');
  const reporter: DangerReporter = report ?? {
    fail: (m, f, l) => g.fail!(m, f, l),
    warn: (m, f, l) => g.warn!(m, f, l),
    message: (m, f, l) => g.message!(m, f, l),
    markdown: (m) => g.markdown!(m),
  };
  migrationsNeedInitData(dsl, reporter, options);
  testsWithSource(dsl, reporter);
  await largePr(dsl, reporter, options);
  lockfileInStep(dsl, reporter, options);
  validPipeline(dsl, reporter, { ...options, registry: options.registry ?? defaultRegistry(await loadPlugins(process.env, options.cwd ?? process.cwd())) });
  qualityGateComment(reporter, options);
}
