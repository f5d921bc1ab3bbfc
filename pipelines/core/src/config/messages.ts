// Schema problems in plain words: what a field must be, with an example, and what it got —
// `steps.build.retries: must be a whole number from 0 to 10, such as 2 (got "two")` — never the
// schema library's own wording ("Too small: expected array to have >=1 items").
import type { z } from 'zod';

type Path = readonly (string | number)[];

/** What each field holds, by its path with step ids as `*`. */
const expected: Record<string, string> = {
  name: 'a name, such as orders-service',
  env: 'a mapping of variable names to values, such as { NODE_ENV: test }',
  'env.*': 'text, a number or true/false, such as eu-west-1',
  executor: 'local, codebuild:<project> or { codebuild: { project: … } }',
  steps: 'a mapping of step ids to steps, such as { build: { run: npm run build } }',
  'steps.*': 'a step: a mapping with run: or uses:, such as { run: npm test }',
  'steps.*.run': 'a shell script, such as npm test',
  'steps.*.uses': 'the name of a registered step, such as db-test',
  'steps.*.with': 'a mapping of inputs, such as { migrations: db/migrations }',
  'steps.*.needs': 'a step id or a list of step ids, such as [build, lint]',
  'steps.*.needs.*': 'a step id, such as build',
  'steps.*.matrix': 'a mapping of axes to lists of values, such as { target: [api, worker] }',
  'steps.*.matrix.*': 'a non-empty list of values, such as [api, worker]',
  'steps.*.matrix.*.*': 'text, a number or true/false, such as api',
  'steps.*.matrix.include': 'a list of mappings, such as [{ target: api, node: 24 }]',
  'steps.*.matrix.exclude': 'a list of mappings, such as [{ target: worker }]',
  'steps.*.matrix.max-parallel': 'a whole number of at least 1, such as 2',
  'steps.*.env': 'a mapping of variable names to values, such as { NODE_ENV: test }',
  'steps.*.env.*': 'text, a number or true/false, such as eu-west-1',
  'steps.*.if': "an expression such as ${{ ci.branch == 'main' }}, or true / false",
  'steps.*.timeout': 'a duration with units, such as 90s, 10m or 1h30m',
  'steps.*.retries': 'a whole number from 0 to 10, such as 2',
  'steps.*.continue-on-error': 'true or false',
  'steps.*.working-directory': 'a path relative to shipgate.yml, such as services/api',
  'steps.*.outputs': 'a list of output names, such as [version, digest]',
  'steps.*.outputs.*': 'an output name (letters, digits, _ and -), such as version',
  'steps.*.cache': 'a mapping, such as { inputs: ["src/**"] }',
  'steps.*.cache.inputs': 'a non-empty list of globs, such as ["src/**", package-lock.json]',
  'steps.*.cache.inputs.*': 'a glob, such as "src/**"',
  'steps.*.executor': 'local, codebuild:<project> or { codebuild: { project: … } }',
};

/** `steps.build.matrix.target.0` → `steps.*.matrix.*.*` (step ids, axes, list positions). */
function fieldPattern(p: Path): string {
  return p
    .map((s, i) => {
      if (typeof s === 'number') return '*';
      if (p[0] === 'steps' && i === 1) return '*';
      if (p[0] === 'env' && i === 1) return '*';
      if (p[0] === 'steps' && p[2] === 'env' && i === 3) return '*';
      if (p[0] === 'steps' && p[2] === 'matrix' && i === 3 && !['include', 'exclude', 'max-parallel'].includes(String(s))) return '*';
      return String(s);
    })
    .join('.');
}

const typeWords: Record<string, string> = {
  string: 'text',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
  record: 'a mapping',
};

/** The schema library's own sentences start like this; messages written in schema.ts do not. */
const libraryWording = /^(Invalid|Too (small|big)|Unrecognized|Expected)\b/;

function generic(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return `must be ${typeWords[issue.expected] ?? issue.expected}`;
    case 'too_small':
      if (issue.origin === 'string') return 'must not be empty';
      if (issue.origin === 'array') return `must list at least ${String(issue.minimum)} item${issue.minimum === 1 ? '' : 's'}`;
      return `must be at least ${String(issue.minimum)}`;
    case 'too_big':
      if (issue.origin === 'array') return `must list at most ${String(issue.maximum)} items`;
      if (issue.origin === 'string') return `must be at most ${String(issue.maximum)} characters`;
      return `must be at most ${String(issue.maximum)}`;
    case 'invalid_value':
      return `must be one of ${issue.values.slice(0, 12).map((v) => String(v)).join(', ')}`;
    default:
      return 'has the wrong form';
  }
}

/** The sentence after `path: `, without the value got (the caller appends it). */
export function plainIssueMessage(issue: z.core.$ZodIssue, options: { pipelineField: boolean } = { pipelineField: true }): string {
  if (!libraryWording.test(issue.message)) return issue.message;
  const known = options.pipelineField ? expected[fieldPattern(issue.path as Path)] : undefined;
  return known ? `must be ${known}` : generic(issue);
}
