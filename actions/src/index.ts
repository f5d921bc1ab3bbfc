// The one bundle behind every shipgate action (actions/shared/dist/index.cjs). Each
// actions/<name>/dist/index.js calls run('<name>'); an action's module, and the steps it
// imports, load only when that action runs. actions/shared/dist/shipgate.mjs calls cli(): the
// whole shipgate CLI with nothing to install, which exports run outside GitHub Actions (CodeBuild
// tasks, the Jenkins library's `runner:`) from a clone of this repository at a pinned ref.
import { runAction, type ActionSpec } from './door.js';

type Loader = () => Promise<{ default: ActionSpec }>;

export const actions: Readonly<Record<string, Loader>> = {
  run: () => import('./run.js'),
  'db-test': () => import('./db-test.js'),
  approval: () => import('./approval.js'),
  'slack-notify': () => import('./slack-notify.js'),
  image: () => import('./image.js'),
  'quality-gate': () => import('./quality-gate.js'),
  codedeploy: () => import('./codedeploy.js'),
  codepipeline: () => import('./codepipeline.js'),
  verify: () => import('./verify.js'),
};

export async function run(name: string): Promise<void> {
  const load = actions[name];
  if (!load) {
    process.exitCode = 1;
    process.stdout.write(`::error::no shipgate action named ${name} (known: ${Object.keys(actions).join(', ')})\n`);
    return;
  }
  await runAction((await load()).default);
}

/** The shipgate CLI, as the `shipgate` executable runs it: real process I/O, SIGINT/SIGTERM cancel. */
export async function cli(args: readonly string[]): Promise<number> {
  const { runCli } = await import('@shipgate/cli');
  // The bundle has no node_modules: give the CLI the plugin compiled in, as actions/run does.
  const { bundledPlugins } = await import('./run.js');
  // the engine's spawner helpers fork a module file; in a bundle there is only this one
  process.env.SHIPGATE_SPAWNER ??= '0';
  const controller = new AbortController();
  let signals = 0;
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      signals += 1;
      if (signals > 1) process.exit(sig === 'SIGINT' ? 130 : 143);
      controller.abort(sig);
    });
  }
  return runCli(args, { stdout: process.stdout, stderr: process.stderr, cwd: process.cwd(), env: process.env, isTTY: Boolean(process.stdout.isTTY) && process.env.CI !== 'true', signal: controller.signal }, { bundledPlugins: await bundledPlugins() });
}
