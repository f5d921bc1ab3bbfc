// What a `migrate:` command reads, for the template key. The command's text alone says nothing of
// the SQL it runs: `npx knex migrate:latest` is the same text before and after a migration changes.
// So the key hashes files: the `inputs:` globs when given, else the usual migrations folders that
// exist and the files the command names (its script).
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { glob, readFile } from 'node:fs/promises';
import path from 'node:path';

/** Where migration tools keep their files by default (knex, Flyway, Prisma, plain folders). */
export const defaultMigrationPaths = ['migrations', 'db/migrations', 'prisma/migrations', 'prisma/schema.prisma', 'sql', 'db/sql'];

export interface CommandInputs {
  /** SHA-256 of the files (relative names and content). */
  digest: string;
  /** The files hashed, relative to the project. */
  files: string[];
  /** What was looked at: the declared globs, or the default folders and scripts found. */
  patterns: string[];
  /** One line for the log: which inputs keyed the template. */
  label: string;
}

/** Words of the command that are files of the project (`node scripts/migrate.mjs`, `--knexfile knexfile.js`). */
export function scriptsNamed(command: string, cwd: string): string[] {
  const words = command.split(/\s+/).map((w) => w.replace(/^['"]|['"]$/g, '').replace(/^--?[\w-]+=/, ''));
  return [...new Set(words.filter((w) => w && !w.startsWith('-') && !path.isAbsolute(w) && isFile(path.join(cwd, w))).map((w) => path.normalize(w)))];
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/** The patterns used when none are declared: existing default folders (with a trailing slash), then the scripts. */
export function defaultPatterns(command: string, cwd: string): string[] {
  const folders = defaultMigrationPaths.filter((p) => existsSync(path.join(cwd, p))).map((p) => (isFile(path.join(cwd, p)) ? p : `${p}/`));
  return [...folders, ...scriptsNamed(command, cwd)];
}

/** Files a pattern stands for: every file under a folder, or what a glob matches; never node_modules. */
async function expand(pattern: string, cwd: string): Promise<string[]> {
  const plain = pattern.replace(/\/$/, '');
  const asGlob = !/[*?[{]/.test(pattern) && existsSync(path.join(cwd, plain)) && !isFile(path.join(cwd, plain)) ? `${plain}/**/*` : pattern;
  const files: string[] = [];
  for await (const name of glob(asGlob, { cwd, exclude: (n: string) => n === 'node_modules' || n.endsWith(`${path.sep}node_modules`) })) {
    if (isFile(path.join(cwd, name))) files.push(name.split(path.sep).join('/'));
  }
  return files;
}

export async function commandInputs(command: string, cwd: string, declared?: readonly string[]): Promise<CommandInputs> {
  const patterns = declared ? [...declared] : defaultPatterns(command, cwd);
  const files = [...new Set((await Promise.all(patterns.map((p) => expand(p, cwd)))).flat())].sort();
  const hash = createHash('sha256');
  for (const file of files) hash.update(file).update('\0').update(await readFile(path.join(cwd, file))).update('\0');
  const label = files.length
    ? `migrate command "${command}" + ${files.length} file${files.length === 1 ? '' : 's'} (${patterns.join(', ')})`
    : `migrate command "${command}" only: no file it reads was found (declare them with inputs: [globs])`;
  return { digest: hash.digest('hex'), files, patterns, label };
}
