// The `shipgate` command tree. Each feature area registers its commands from cli/commands/*.ts;
// this file only wires them. Commands throw ShipgateError for anything a user did wrong; `runCli`
// turns that into a one-line message and a documented exit code — never a stack trace.
import { Command, CommanderError } from 'commander';
import { ExitCode, ShipgateError } from '@shipgate/protocol';
import type { CliIO } from '@shipgate/protocol';
import { loadPluginsDeferred, type BundledPlugins, type DeferredPlugin } from './plugins.js';
import type { CommandRegistrar, ShipgatePlugin } from '@shipgate/protocol';
import { cliRegistry } from './cli-registry.js';

export type { CommandRegistrar };

/** Registrars of the command groups, loaded per command line (cli/commands/index.ts). */
import { commandRegistrarsFor } from './commands/index.js';
import { shipgateVersion as version } from '../version.js';

/** The `shipgate` program with the given command groups (every one by default) and plugins. */
export async function buildProgram(io: CliIO, setExitCode: (code: number) => void, plugins: readonly ShipgatePlugin[] = [], deferred: readonly DeferredPlugin[] = [], commandRegistrars?: readonly CommandRegistrar[]): Promise<Command> {
  const steps = cliRegistry(plugins, deferred);
  const registrars = commandRegistrars ?? (await commandRegistrarsFor(undefined));
  const program = new Command('shipgate')
    .description('Safe, boring deploys: a parallel pipeline engine with quality gates, versioned images and approvals.')
    .version(version, '-V, --version')
    .option('-C, --directory <dir>', 'run as if started in <dir>')
    .option('-f, --file <file>', 'pipeline file (default: shipgate.yml in the directory)')
    .showHelpAfterError('(run with --help for usage)')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    });
  const pluginCommands = plugins.flatMap((p) => [...(p.commands ?? [])]);
  for (const register of [...registrars, ...pluginCommands]) register(program, io, setExitCode, steps);
  return program;
}

/**
 * How a ShipgateError is printed: config problems as `file:line:col: message [code]` lines (every
 * line of a multi-problem report the same shape, for editors and CI annotations), anything else
 * prefixed with `shipgate: `.
 */
export function errorReport(error: ShipgateError): string {
  return error.location ? error.format() : `shipgate: ${error.format()}`;
}

/** The command word of a command line: its first argument that is neither an option nor the value of -C/-f. */
export function commandWord(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    if (['-C', '--directory', '-f', '--file'].includes(arg)) i += 1;
    else if (!arg.startsWith('-')) return arg;
  }
  return undefined;
}

/**
 * Whether a command line may need a deferred plugin's commands: one of them, or anything that is
 * not a command of the program without them (help, no command, a typo that gets a did-you-mean).
 */
function needsPluginCommands(argv: readonly string[], program: Command): boolean {
  const word = commandWord(argv);
  if (word === undefined || word === 'help' || argv.includes('--help') || argv.includes('-h')) return !argv.includes('--version') && !argv.includes('-V');
  return !program.commands.some((c) => c.name() === word || c.aliases().includes(word));
}

/** Runs the CLI with `argv` (without node and script). Resolves to the process exit code. */
export async function runCli(argv: readonly string[], io: CliIO, options: { bundledPlugins?: BundledPlugins } = {}): Promise<number> {
  let exitCode: number = ExitCode.ok;
  let plugins: ShipgatePlugin[];
  let deferred: DeferredPlugin[];
  const setExitCode = (code: number) => {
    exitCode = code;
  };
  let program: Command;
  try {
    ({ plugins, deferred } = await loadPluginsDeferred(io.env, io.cwd, options.bundledPlugins));
    const registrars = await commandRegistrarsFor(commandWord(argv));
    program = await buildProgram(io, setExitCode, plugins, deferred, registrars);
    // a deferred plugin's commands are only known once it is imported: import it when the command line may name one
    if (deferred.length && needsPluginCommands(argv, program)) {
      plugins = [...plugins, ...(await Promise.all(deferred.map((d) => d.load())))];
      program = await buildProgram(io, setExitCode, plugins, [], registrars);
    }
  } catch (error) {
    if (error instanceof ShipgateError) {
      io.stderr.write(`shipgate: ${error.format()}\n`);
      return error.exitCode;
    }
    throw error;
  }
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here with code 0; usage mistakes were already printed by commander.
      return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    }
    if (error instanceof ShipgateError) {
      io.stderr.write(`${errorReport(error)}\n`);
      return error.exitCode;
    }
    const err = error instanceof Error ? error : new Error(String(error));
    io.stderr.write(`shipgate: internal error: ${err.stack ?? err.message}\nPlease report this at the project's issue tracker.\n`);
    return ExitCode.internal;
  }
}
