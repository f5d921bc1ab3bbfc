// `shipgate export jenkins`: a Jenkinsfile that hands the pipeline to the shipgate shared library
// (`vars/shipgatePipeline.groovy`), which reads `shipgate plan --json` and runs each step as a
// parallel branch. The Jenkinsfile holds no pipeline logic of its own: only where shipgate.yml is
// and the options the library takes, among them `runner:` — the shipgate repository and ref whose
// bundled CLI runs the steps, so no agent needs a package by name. Every step runs in one
// workspace on one agent, so files pass between steps on disk: no stash / unstash.
import type { PipelineSpec } from '@shipgate/core';
import { ShipgateError } from '@shipgate/protocol';
import { actionSource, generatedHeader, type ActionSource, type ExportResult } from './common.js';

export interface JenkinsExportOptions extends ActionSource {
  /** Leave `runner:` out: the agents have the CLI (`shipgate` on PATH or `SHIPGATE_CLI`). */
  noRunner?: boolean | undefined;
  /** The shared library as configured in Jenkins, optionally with a version: `shipgate@v1`. Default `shipgate`. */
  library?: string | undefined;
  /** Run on agents with this label (default: any agent). */
  label?: string | undefined;
  /** At most this many steps at once on the agent. */
  maxParallel?: number | undefined;
  /** The directory of shipgate.yml inside the repository. Default `.`. */
  sourceDirectory?: string | undefined;
}

/** A Groovy single-quoted string literal (no interpolation happens inside it). */
export function groovyString(text: string): string {
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n')}'`;
}

export function exportJenkinsfile(spec: PipelineSpec, options: JenkinsExportOptions = {}): ExportResult {
  const library = options.library ?? 'shipgate';
  if (!/^[\w.-]+(@[\w./-]+)?$/.test(library)) {
    throw new ShipgateError('export.library', `--library "${library}" is not a library name (name or name@version)`, { hint: 'e.g. --library shipgate or --library shipgate@v1' });
  }
  const dir = options.sourceDirectory && options.sourceDirectory !== '.' ? `${options.sourceDirectory.replace(/\/$/, '')}/` : '';
  const file = `${dir}${spec.file.split(/[\\/]/).pop()!}`;
  const args: string[] = [`file: ${groovyString(file)}`];
  if (!options.noRunner) {
    const { repo, ref } = actionSource(options);
    args.push(`runner: ${groovyString(`${repo}@${ref}`)}`);
  }
  if (options.label) args.push(`label: ${groovyString(options.label)}`);
  if (options.maxParallel !== undefined) args.push(`maxParallel: ${options.maxParallel}`);
  const text = [
    generatedHeader('jenkins', '//').trimEnd(),
    `// The shipgate library runs ${spec.name}'s steps as parallel stages, in the order shipgate plan gives.`,
    `@Library(${groovyString(library)}) _`,
    '',
    `shipgatePipeline(${args.join(', ')})`,
    '',
  ].join('\n');
  return { text, warnings: [] };
}
