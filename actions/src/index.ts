// The one bundle behind every shipgate action (actions/shared/dist/index.cjs). Each
// actions/<name>/dist/index.js calls run('<name>'); an action's module, and the steps it
// imports, load only when that action runs.
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
