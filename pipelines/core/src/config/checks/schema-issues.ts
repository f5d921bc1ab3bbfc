// The zod schema's issues as problems for people: at the key or value they concern, in plain words
// with what was found, one problem per field, and no "is required" where a misspelt key already
// says it ("unknown key stepz — did you mean steps?").
import type { z } from 'zod';
import { closest, didYouMean } from '@shipgate/protocol';
import { pathText, valueAt, type Path } from '../key-path.js';
import { plainIssueMessage } from '../messages.js';
import type { Positions } from '../positions.js';
import type { Problems } from '../problems.js';
import { codebuildExecutorKeys, pipelineKeys, stepKeys } from '../schema.js';

function allowedKeysFor(p: Path): readonly string[] | undefined {
  if (p.length === 0) return pipelineKeys;
  if (p.length === 2 && p[0] === 'steps') return stepKeys;
  if (p.length === 3 && p[0] === 'steps' && p[2] === 'cache') return ['inputs', 'outputs'];
  const last = p.length >= 2 ? p.slice(-2).join('.') : '';
  if (last === 'executor.codebuild' && (p.length === 2 || (p.length === 4 && p[0] === 'steps'))) return codebuildExecutorKeys;
  return undefined;
}

/** A value as a message shows it: short, and only its kind for lists and mappings. */
export function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string' && v.length > 60) return `${JSON.stringify(v.slice(0, 40))}… (${v.length} characters)`;
  return JSON.stringify(v);
}

/**
 * A union (such as `executor: local | { codebuild: … }`) fails as one vague "Invalid input". When
 * only one of its branches has the right shape, that branch's own issues say what is wrong.
 */
function unwrapUnions(issues: readonly z.core.$ZodIssue[]): z.core.$ZodIssue[] {
  return issues.flatMap((issue) => {
    if (issue.code !== 'invalid_union') return [issue];
    const shaped = issue.errors.filter((errors) => !errors.some((e) => e.code === 'invalid_type' && e.path.length === 0));
    if (shaped.length !== 1) return [issue];
    return unwrapUnions(shaped[0]!.map((e) => ({ ...e, path: [...issue.path, ...e.path] }) as z.core.$ZodIssue));
  });
}

/** Paths of the keys that unknown keys were probably meant to be (`stepz` → `steps`). */
function misspeltKeys(issues: readonly z.core.$ZodIssue[]): Set<string> {
  const misspelt = new Set<string>();
  for (const issue of issues) {
    if (issue.code !== 'unrecognized_keys') continue;
    for (const key of issue.keys) {
      const meant = closest(key, allowedKeysFor(issue.path as Path) ?? []);
      if (meant) misspelt.add(pathText([...(issue.path as Path), meant]));
    }
  }
  return misspelt;
}

function reportUnknownKeys(keys: readonly string[], p: Path, pos: Positions, problems: Problems): void {
  const allowed = allowedKeysFor(p) ?? [];
  for (const key of keys) {
    const where = p.length === 0 ? 'at the top level' : `in ${pathText(p)}`;
    problems.add('config.unknown-key', `unknown key "${key}" ${where}${didYouMean(key, allowed)}`, pos.key([...p, key]), allowed.length ? `allowed keys: ${allowed.join(', ')}` : undefined);
  }
}

export function reportSchemaIssues(all: readonly z.core.$ZodIssue[], raw: unknown, pos: Positions, problems: Problems): void {
  const issues = unwrapUnions(all);
  // "unknown key stepz — did you mean steps?" already says what "steps is required" would say
  const misspelt = misspeltKeys(issues);
  const reported = new Set<string>(); // one problem per field: `name: []` is not also "too small"
  for (const issue of issues) {
    const p = issue.path as Path;
    if (issue.code === 'unrecognized_keys') {
      reportUnknownKeys(issue.keys, p, pos, problems);
      continue;
    }
    if (valueAt(raw, p) === undefined && misspelt.has(pathText(p))) continue;
    if (issue.code === 'invalid_key') {
      const why = issue.issues.map((i) => i.message).find((m) => !/^Invalid/.test(m)) ?? 'not an allowed name';
      problems.add('config.type', `${pathText(p.slice(0, -1))}: "${String(p[p.length - 1])}" is not a valid name: ${why}`, pos.key(p));
      continue;
    }
    if (reported.has(pathText(p))) continue;
    reported.add(pathText(p));
    const got = valueAt(raw, p);
    const missing = got === undefined;
    const message = missing ? `${pathText(p)} is required` : `${pathText(p)}: ${plainIssueMessage(issue)} (got ${describeValue(got)})`;
    problems.add('config.type', message, missing ? pos.nearest(p) : (pos.value(p) ?? pos.key(p)));
  }
}
