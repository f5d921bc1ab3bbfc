// `shipgate verify`: the verify step as a command, for pipelines that are not shipgate.yml ones
// (a Jenkins stage, a deploy script). The inputs come from a YAML file (the same mapping as the
// step's `with:`) and flags, which win; it runs the very same step, with the CLI's rollbacks.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { ExitCode, ShipgateError, type CommandRegistrar } from '@shipgate/protocol';
import { pipelineLocation } from '../options.js';
import { commandInvocation, runStepCommand } from '../run-step.js';

interface VerifyOptions {
  inputs?: string;
  prometheus?: string;
  interval?: string;
  count?: string;
  failureLimit?: string;
  inconclusiveLimit?: string;
  initialDelay?: string;
  release?: string;
  environment?: string;
  service?: string;
  baselineVersion?: string;
  allowInconclusive?: boolean;
  json?: boolean;
}

async function readInputsFile(file: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ShipgateError('cli.file', `--inputs ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
  const parsed: unknown = parseYaml(text);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ShipgateError('cli.bad-inputs', `--inputs ${file}: expected a mapping of the verify step's inputs`, { hint: 'prometheus: …, checks: [ { name, query, max } ], interval: 30s' });
  return parsed as Record<string, unknown>;
}

function integer(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new ShipgateError('cli.bad-number', `${flag} ${value}: expected a whole number`);
  return Number(value);
}

/** The step's inputs: the file's mapping, then each flag given. */
export async function verifyCommandInputs(opts: VerifyOptions, cwd: string): Promise<Record<string, unknown>> {
  const fromFile = opts.inputs ? await readInputsFile(path.resolve(cwd, opts.inputs)) : {};
  const flags: Record<string, unknown> = {
    prometheus: opts.prometheus,
    interval: opts.interval,
    count: integer('--count', opts.count),
    'failure-limit': integer('--failure-limit', opts.failureLimit),
    'inconclusive-limit': integer('--inconclusive-limit', opts.inconclusiveLimit),
    'initial-delay': opts.initialDelay,
    version: opts.release,
    environment: opts.environment,
    service: opts.service,
    'baseline-version': opts.baselineVersion,
    'allow-inconclusive': opts.allowInconclusive,
  };
  return { ...fromFile, ...Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined)) };
}

/** A failed or inconclusive verdict exits 1; any other verify error is a bad input (2). */
export function verifyExitCode(code: string): number | undefined {
  if (code === 'verify.failed' || code === 'verify.inconclusive') return ExitCode.failed;
  return code.startsWith('verify.') ? ExitCode.usage : undefined;
}

export const registerVerifyCommand: CommandRegistrar = (program, io, setExitCode, steps) => {
  program
    .command('verify')
    .description('judge a fresh deployment on Prometheus checks over a bake time; roll it back when it fails')
    .option('--inputs <file>', 'YAML file with the verify step inputs (prometheus, checks, on-failure, …)')
    .option('--prometheus <url>', 'Prometheus base URL (auth: PROMETHEUS_TOKEN, or PROMETHEUS_USERNAME + PROMETHEUS_PASSWORD)')
    .option('--interval <duration>', 'time between evaluations')
    .option('--count <n>', 'evaluations in all')
    .option('--failure-limit <n>', 'failed evaluations tolerated')
    .option('--inconclusive-limit <n>', 'evaluations without a number tolerated')
    .option('--initial-delay <duration>', 'wait before the first evaluation')
    .option('--release <version>', 'the version under test: {{ version }} in the queries, and the deploy record’s version (--version is shipgate’s own)')
    .option('--environment <env>', '{{ environment }}, and the deploy record’s environment')
    .option('--service <name>', '{{ service }}, and the deploy record’s service')
    .option('--baseline-version <version>', 'the previous version, for baseline checks')
    .option('--allow-inconclusive', 'exit 0 on an inconclusive verdict')
    .option('--json', 'print the verdict as JSON on stdout (verdict, failingCheck, evaluations, rolledBack); the log goes to stderr')
    .addHelpText('after', '\nExample:\n  shipgate verify --inputs verify.yml --release 1.4.2 --environment production\n\nExit codes: 0 passed, 1 failed (rolled back when on-failure says so) or inconclusive, 2 bad input.')
    .action(async (opts: VerifyOptions, command: Command) => {
      const { directory } = pipelineLocation(command, io);
      const inputs = await verifyCommandInputs(opts, io.cwd);
      // the CLI's own verify step, composed with its rollbacks (cli-registry.ts / steps.ts)
      const { exitCode } = await runStepCommand(io, steps, commandInvocation('verify', inputs), {
        workspace: directory,
        // with --json, stdout is the JSON only; the evaluations still show, on stderr (a CI log)
        quiet: Boolean(opts.json),
        ...(opts.json ? { onLog: (line: string) => io.stderr.write(`${line}\n`) } : {}),
        exitCodes: verifyExitCode,
        render: (result) => {
          const o = result.outputs;
          if (opts.json) io.stdout.write(`${JSON.stringify({ verdict: o.verdict ?? null, failingCheck: o['failing-check'] || null, evaluations: Number(o.evaluations ?? 0), rolledBack: o['rolled-back'] === 'true', ...(result.error ? { error: result.error } : {}) }, null, 2)}\n`);
        },
      });
      setExitCode(exitCode);
    });
};
