// What the exporters need to know about a step's `${{ }}` expressions: which steps' outputs and
// which environment variables they read, and (for GitHub) the same expression in GitHub's words —
// shipgate's expression language is GitHub's, only the contexts differ (`steps.x.outputs` is
// `needs.x.outputs` between jobs, `ci.*` is read from `github.*`).
import { findExpressions } from '@shipgate/core';
import type { StepSpec } from '@shipgate/core';

/** `ci.*` as GitHub Actions expressions (the same facts ci/context.ts reads from the runner). */
const ciInGitHub: Readonly<Record<string, string>> = {
  provider: "'github'",
  event: 'github.event_name',
  branch: '(github.head_ref || github.ref_name)',
  tag: "(startsWith(github.ref, 'refs/tags/') && github.ref_name || '')",
  sha: '(github.event.pull_request.head.sha || github.sha)',
  defaultBranch: 'github.event.repository.default_branch',
  pullRequest: 'github.event.pull_request.number',
  repository: 'github.repository',
  runId: 'github.run_id',
  actor: 'github.actor',
};

/** Applies `rewrite` to the parts of an expression outside its '…' string literals. */
function outsideStrings(source: string, rewrite: (code: string) => string): string {
  return source
    .split(/('(?:[^']|'')*')/)
    .map((part, i) => (i % 2 === 1 ? part : rewrite(part)))
    .join('');
}

/** One expression source (without `${{ }}`) in GitHub's contexts. */
export function toGitHubExpression(source: string): string {
  return outsideStrings(source, (code) =>
    code
      .replace(/\bsteps\.([A-Za-z_][\w-]*)\.outputs\b/g, 'needs.$1.outputs')
      .replace(/\bsteps\.([A-Za-z_][\w-]*)\.outcome\b/g, 'needs.$1.result')
      .replace(/\bci\.([A-Za-z]+)\b/g, (whole, field: string) => ciInGitHub[field] ?? whole),
  );
}

/** A template string with every `${{ … }}` translated. */
export function toGitHubTemplate(text: string): string {
  let out = '';
  let last = 0;
  for (const e of findExpressions(text)) {
    out += `${text.slice(last, e.start)}\${{ ${toGitHubExpression(e.source.trim())} }}`;
    last = e.end;
  }
  return out + text.slice(last);
}

/** Every expression source a step holds: in with:/run, env, working-directory and if:. */
export function stepExpressions(step: StepSpec): string[] {
  const sources: string[] = [];
  const visit = (value: unknown): void => {
    if (typeof value === 'string') sources.push(...findExpressions(value).map((e) => e.source));
    else if (Array.isArray(value)) value.forEach(visit);
    else if (value && typeof value === 'object') Object.values(value).forEach(visit);
  };
  visit(step.with);
  visit(step.env);
  visit(step.workingDirectory);
  if (step.if !== undefined) {
    const embedded = findExpressions(step.if);
    sources.push(...(embedded.length ? embedded.map((e) => e.source) : [step.if]));
  }
  return sources;
}

/** What a step's expressions read: steps' outputs (and outcomes), and environment variables. */
export function stepReads(step: StepSpec): { outputsOf: Map<string, Set<string>>; outcomeOf: Set<string>; env: Set<string> } {
  const outputsOf = new Map<string, Set<string>>();
  const outcomeOf = new Set<string>();
  const env = new Set<string>();
  for (const source of stepExpressions(step)) {
    outsideStrings(source, (code) => {
      for (const m of code.matchAll(/\bsteps\.([A-Za-z_][\w-]*)\.outputs\.([A-Za-z_][\w-]*)/g)) {
        if (!outputsOf.has(m[1]!)) outputsOf.set(m[1]!, new Set());
        outputsOf.get(m[1]!)!.add(m[2]!);
      }
      for (const m of code.matchAll(/\bsteps\.([A-Za-z_][\w-]*)\.outcome\b/g)) outcomeOf.add(m[1]!);
      for (const m of code.matchAll(/(?<![.\w])env\.([A-Za-z_]\w*)/g)) env.add(m[1]!);
      return code;
    });
  }
  return { outputsOf, outcomeOf, env };
}

/** The `if:` of a step as GitHub writes it: `${{ … }}` around the translated expression. */
export function toGitHubCondition(condition: string): string {
  const embedded = findExpressions(condition);
  if (embedded.length === 1 && condition.trim().startsWith('${{') && condition.trim().endsWith('}}')) return `\${{ ${toGitHubExpression(embedded[0]!.source.trim())} }}`;
  if (embedded.length) return toGitHubTemplate(condition);
  return `\${{ ${toGitHubExpression(condition.trim())} }}`;
}
