// `shipgate export github|jenkins|codebuild`: writes the pipeline for another engine — a GitHub
// Actions workflow, a Jenkinsfile over the shipgate library, a CodeBuild batch buildspec — to
// stdout or `--output <file>`. The exporters decide; this file reads flags and writes the text.
import path from 'node:path';
import type { Command } from 'commander';
import { findPipelineFile, loadPipeline } from '@shipgate/core';
import type { PipelineSpec } from '@shipgate/core';
import { sourceDirectoryOf } from '@shipgate/aws';
import { exportCodeBuildBuildspec, exportGitHubWorkflow, exportJenkinsfile, type ExportResult } from '../../export/index.js';
import { defaultActionRef, defaultActionRepo } from '../../export/common.js';
import { checkoutFiles, defaultBranchOf } from '../../export/repository.js';
import type { StepRegistry } from '@shipgate/protocol';
import type { CommandRegistrar } from '@shipgate/protocol';
import type { CliIO } from '@shipgate/protocol';
import { listOption, pipelineLocation, positiveInt } from '../options.js';
import { writeOutputFile } from '../output-file.js';

interface Common {
  output?: string;
  directory?: string;
}

async function load(command: Command, io: CliIO, registry: StepRegistry): Promise<PipelineSpec> {
  const { directory, file } = pipelineLocation(command, io);
  const found = findPipelineFile(directory, file);
  return loadPipeline(found, { registry, displayFile: path.relative(io.cwd, found) || found });
}

async function emit(io: CliIO, result: ExportResult, output: string | undefined): Promise<void> {
  for (const warning of result.warnings) io.stderr.write(`shipgate: warning: ${warning}\n`);
  if (!output) {
    io.stdout.write(result.text);
    return;
  }
  const file = path.resolve(io.cwd, output);
  await writeOutputFile(file, result.text, output);
  io.stderr.write(`wrote ${path.relative(io.cwd, file) || file}\n`);
}

export const registerExportCommand: CommandRegistrar = (program, io, _setExitCode, steps) => {
  const exp = program
    .command('export')
    .description('write the pipeline as a GitHub Actions workflow, a Jenkinsfile or a CodeBuild batch buildspec')
    .addHelpText('after', '\nExamples:\n  shipgate export github -o .github/workflows/shipgate.yml\n  shipgate export jenkins --label linux -o Jenkinsfile\n  shipgate export codebuild -o buildspec.yml');
  const common = (c: Command) =>
    c
      .option('-o, --output <file>', 'write to this file (default: stdout)')
      .option('--source-dir <dir>', "shipgate.yml's directory inside the repository (default: what git says)");
  const sourceDir = async (opts: Common & { sourceDir?: string }, spec: PipelineSpec) => opts.sourceDir ?? (await sourceDirectoryOf(spec.root));

  common(exp.command('github'))
    .description('a GitHub Actions workflow: one job per step through the shipgate run action, needs, strategy.matrix, job outputs, artifacts')
    .option('--action-repo <owner/repo>', 'the shipgate repository whose actions the jobs run (a fork publishes its own)', defaultActionRepo)
    .option('--ref <ref>', 'tag, branch or commit of those actions', defaultActionRef)
    .option('--no-actions', 'run every step through actions/run, also those that have an action of their own')
    .option('--actions <names>', 'steps (by uses: name) to run through their own action (default: every shipgate action)', listOption)
    .option('--runs-on <label>', 'runner label', 'ubuntu-latest')
    .option('--branch <name>', "pushes to this branch run the workflow (default: the repository's default branch, from git)")
    .option('--install <command>', "installs the dependencies once per job (default: the pipeline's install step's script, else npm ci)")
    .option('--no-install', 'no install in the jobs')
    .option('--node-version <version>', 'Node.js that setup-node installs for the install and the steps', '24')
    .action(
      async (
        opts: Common & { sourceDir?: string; actionRepo: string; ref: string; actions: boolean | string[]; runsOn: string; branch?: string; install: boolean | string; nodeVersion: string },
        command: Command,
      ) => {
        const spec = await load(command, io, steps);
        const actions = opts.actions === false ? [] : Array.isArray(opts.actions) ? opts.actions : undefined;
        const install = opts.install === false ? '' : typeof opts.install === 'string' ? opts.install : undefined;
        const options = {
          actionRepo: opts.actionRepo,
          ref: opts.ref,
          actions,
          install,
          runsOn: opts.runsOn,
          branch: opts.branch ?? (await defaultBranchOf(spec.root)),
          nodeVersion: opts.nodeVersion,
          sourceDirectory: await sourceDir(opts, spec),
          checkout: await checkoutFiles(spec.root),
        };
        await emit(io, exportGitHubWorkflow(spec, options), opts.output);
      },
    );

  common(exp.command('jenkins'))
    .description("a Jenkinsfile that runs the pipeline with the shipgate shared library (@Library('shipgate'))")
    .option('--library <name[@version]>', 'the shared library as configured in Jenkins', 'shipgate')
    .option('--action-repo <owner/repo>', 'the shipgate repository whose bundled CLI the library clones and runs (runner:)', defaultActionRepo)
    .option('--ref <ref>', 'tag, branch or commit of it', defaultActionRef)
    .option('--no-runner', 'no runner: the agents have the shipgate CLI (on PATH or SHIPGATE_CLI)')
    .option('--label <label>', 'run on agents with this label')
    .option('-j, --max-parallel <n>', 'at most this many steps at once', positiveInt('--max-parallel'))
    .action(async (opts: Common & { sourceDir?: string; library: string; actionRepo: string; ref: string; runner: boolean; label?: string; maxParallel?: number }, command: Command) => {
      const spec = await load(command, io, steps);
      const options = { library: opts.library, actionRepo: opts.actionRepo, ref: opts.ref, noRunner: !opts.runner, label: opts.label, maxParallel: opts.maxParallel, sourceDirectory: await sourceDir(opts, spec) };
      await emit(io, exportJenkinsfile(spec, options), opts.output);
    });

  common(exp.command('codebuild'))
    .description('a CodeBuild batch buildspec: one build-graph task per step invocation, depend-on from needs, files between tasks through S3')
    .option('--action-repo <owner/repo>', 'the shipgate repository whose run action the tasks run (a fork publishes its own)', defaultActionRepo)
    .option('--ref <ref>', 'tag, branch or commit of it', defaultActionRef)
    .option('--artifacts <s3-url>', 's3://bucket/prefix where tasks leave the files later tasks need (cache.outputs, artifacts:)')
    .option('--buildspec-path <path>', 'where the buildspec will live in the repository (every task runs it; default: --output relative to the repository, else buildspec.yml)')
    .option('--install <command>', "a command before the step (repeatable; default: the pipeline's install step's script, else npm ci)", (v: string, prev: string[] = []) => [...prev, v])
    .option('--no-install', 'no install commands')
    .action(async (opts: Common & { sourceDir?: string; actionRepo: string; ref: string; artifacts?: string; buildspecPath?: string; install: boolean | string[] }, command: Command) => {
      const spec = await load(command, io, steps);
      const dir = await sourceDir(opts, spec);
      // the tasks run the file this writes: name it as the repository will see it
      const repoRoot = path.resolve(spec.root, ...(dir === '.' ? [] : dir.split('/').map(() => '..')));
      const written = opts.output ? path.relative(repoRoot, path.resolve(io.cwd, opts.output)).split(path.sep).join('/') : undefined;
      const buildspecPath = opts.buildspecPath ?? (written && !written.startsWith('..') ? written : undefined);
      const install = opts.install === false ? [] : Array.isArray(opts.install) ? opts.install : undefined;
      const options = { actionRepo: opts.actionRepo, ref: opts.ref, artifacts: opts.artifacts, buildspecPath, install, sourceDirectory: dir, checkout: await checkoutFiles(spec.root) };
      await emit(io, exportCodeBuildBuildspec(spec, options), opts.output);
    });
};
