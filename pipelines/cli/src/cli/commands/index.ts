// Every command group of the CLI, by the command words it registers. A command line loads only the
// module of its own command (and so only the step packages that command uses): `shipgate validate`
// never reads the AWS SDK. Help, no command or an unknown word load them all. Add a feature's
// module here with the words it registers (a test checks the words against what it registers).
import type { CommandRegistrar } from '@shipgate/protocol';

type Loader = () => Promise<CommandRegistrar>;

const pipeline: Loader = async () => (await import('./pipeline.js')).registerPipelineCommands;
const deploy: Loader = async () => (await import('./deploy.js')).registerDeployCommands;

/** The command words and the registrar of the module that registers each. */
export const commandModules: Readonly<Record<string, Loader>> = {
  validate: pipeline,
  plan: pipeline,
  run: pipeline,
  steps: pipeline,
  schema: pipeline,
  step: async () => (await import('./step.js')).registerStepCommand,
  gate: async () => (await import('./gate.js')).registerGateCommand,
  image: async () => (await import('./image.js')).registerImageCommands,
  export: async () => (await import('./export.js')).registerExportCommand,
  deploy,
  rollback: deploy,
  deployments: deploy,
  codepipeline: deploy,
  report: async () => (await import('./report.js')).registerReportCommand,
  verify: async () => (await import('./verify.js')).registerVerifyCommand,
  'send-report': async () => (await import('./send-report.js')).registerSendReportCommand,
};

/** The registrars a command line needs: its command's module, or every module (help, no or an unknown command). */
export async function commandRegistrarsFor(word: string | undefined): Promise<CommandRegistrar[]> {
  const one = word !== undefined && Object.hasOwn(commandModules, word) ? commandModules[word] : undefined;
  const loaders = one ? [one] : [...new Set(Object.values(commandModules))];
  return Promise.all(loaders.map((load) => load()));
}
