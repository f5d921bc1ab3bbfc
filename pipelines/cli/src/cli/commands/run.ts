// `shipgate run`: the command and its options. What it does is in run-action.ts, imported when the
// command runs, so `shipgate validate` and `shipgate plan` (registered in the same module) never load
// the scheduler, the reporters or the AWS executors.
import { Option, type Command } from 'commander';
import type { CommandRegistrar } from '@shipgate/protocol';
import { listOption, nonEmpty, positiveInt } from '../options.js';
import type { RunFlags } from './run-action.js';

export const registerRunCommand: CommandRegistrar = (program, io, setExitCode, steps) => {
  program
    .command('run')
    .description('run the pipeline: every ready step at once, fail-fast, cached')
    .option('--only <steps>', 'run only these steps (comma-separated); their upstream outputs come from the cache', listOption)
    .option('--from <step>', 'run this step and everything after it', nonEmpty('--from'))
    .option('-j, --max-parallel <n>', 'at most this many steps at once (default: CPU count)', positiveInt('--max-parallel'))
    .option('-k, --keep-going', 'after a failure, let independent steps finish (dependents are still skipped)')
    .option('-n, --dry-run', 'show what would run, run nothing')
    .option('--no-cache', 'run every step even when its inputs are unchanged')
    .addOption(new Option('--reporter <kind>', 'output style (default: tty on a terminal, github under GitHub Actions, else plain)').choices(['tty', 'plain', 'github']))
    .option('-v, --verbose', 'show debug lines')
    .option('--report-dir <dir>', 'write report.html, report.json, junit.xml and logs/ here instead of .shipgate/ (runs side by side in one workspace each keep their own)')
    .addHelpText(
      'after',
      '\nExamples:\n  shipgate run\n  shipgate run --only unit,lint --no-cache\n  shipgate -C examples/orders-service run -j 2 --keep-going\n  shipgate run --only lint --report-dir .shipgate/jenkins/lint\n\n' +
        'Writes .shipgate/report.html, report.json, junit.xml and logs/ next to shipgate.yml (or in --report-dir).\n' +
        'Exit codes: 0 success, 1 a step failed, 2 invalid config or flags, 130 interrupted (Ctrl-C).',
    )
    .action(async (opts: RunFlags, command: Command) => {
      const { runCommand } = await import('./run-action.js');
      setExitCode(await runCommand(io, steps, opts, command));
    });
};
