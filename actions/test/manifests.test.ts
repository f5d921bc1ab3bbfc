// The actions' contracts: every action.yml runs on node24 from dist/index.js and describes each
// input and output; every input a door reads is declared; every output its step sets is declared;
// and the committed bundle is what the sources build (esbuild is deterministic: a byte compare).
import { describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { actions } from '../src/index.js';

const actionsDir = path.resolve(import.meta.dirname, '..');
// @ts-expect-error -- a plain .mjs script without types
const { actionNames } = (await import('../scripts/bundle.mjs')) as { actionNames(): string[] };

interface ActionYml {
  name: string;
  description: string;
  inputs?: Record<string, { description?: string; required?: boolean }>;
  outputs?: Record<string, { description?: string }>;
  runs: { using: string; main: string };
}

const manifest = (name: string) => parse(readFileSync(path.join(actionsDir, name, 'action.yml'), 'utf8')) as ActionYml;

describe('action.yml files', () => {
  const names = actionNames();

  it('one action folder per door, and one door per folder', () => {
    expect(names).toEqual(Object.keys(actions).sort());
    expect(names).toEqual(expect.arrayContaining(['run', 'db-test', 'approval', 'slack-notify']));
  });

  it.each(actionNames())('%s runs on node24 from its bundle and describes every input and output', (name) => {
    const yml = manifest(name);
    expect(yml.runs).toEqual({ using: 'node24', main: 'dist/index.js' });
    expect(yml.name).toBe(`shipgate ${name}`);
    expect(yml.description.length).toBeGreaterThan(20);
    for (const [key, value] of [...Object.entries(yml.inputs ?? {}), ...Object.entries(yml.outputs ?? {})]) {
      expect([key, typeof value.description === 'string' && value.description.length > 10]).toEqual([key, true]);
    }
  });

  it.each(actionNames())('%s declares every input its door reads and every output its step sets', async (name) => {
    const spec = (await actions[name]!()).default;
    const yml = manifest(name);
    const read = [...Object.keys(spec.inputs), ...(spec.workingDirectoryInput ? [spec.workingDirectoryInput] : [])].sort();
    expect(read).toEqual(Object.keys(yml.inputs ?? {}).sort());
    if (name === 'run') return; // run's outputs are the script's or the chosen step's
    const { step } = await spec.step({});
    expect(Object.keys(step.outputs ?? {}).sort()).toEqual(Object.keys(yml.outputs ?? {}).sort());
  });

  // Step inputs an action leaves out on purpose: quality-gate takes the token itself (its `token`
  // input becomes SONAR_TOKEN), so naming another variable would only confuse.
  const leftOut: Record<string, string[]> = { 'quality-gate': ['token-env'] };

  it.each(actionNames())('%s forwards every input of its step', async (name) => {
    if (name === 'run') return;
    const spec = (await actions[name]!()).default;
    const { step } = await spec.step({});
    const stepInputs = Object.keys((step.inputs as unknown as { shape: Record<string, unknown> }).shape).filter((k) => !(leftOut[name] ?? []).includes(k));
    const forwarded = Object.keys(spec.inputs).filter((k) => !(k in (spec.env ?? {})));
    expect(forwarded.sort()).toEqual(stepInputs.sort());
  });

  it.each(actionNames())('%s: inputs the step requires are required in action.yml', async (name) => {
    if (name === 'run') return;
    const spec = (await actions[name]!()).default;
    const { step } = await spec.step({});
    const parsed = step.inputs.safeParse({});
    const missing = parsed.success ? [] : [...new Set(parsed.error.issues.filter((i) => i.code === 'invalid_type' && i.input === undefined).map((i) => String(i.path[0])))];
    const yml = manifest(name);
    const required = Object.entries(yml.inputs ?? {}).filter(([, v]) => v.required).map(([k]) => k);
    expect(required.sort()).toEqual(missing.sort());
  });
});

describe('actions/README.md', () => {
  const readme = readFileSync(path.join(actionsDir, 'README.md'), 'utf8');
  it.each(actionNames())('documents every input and output of %s in its table', (name) => {
    const section = readme.split(/^### /m).find((s) => s.startsWith(`${name}\n`)) ?? '';
    const yml = manifest(name);
    const documented = [...section.matchAll(/^\| `([\w-]+)` \|/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual([...Object.keys(yml.inputs ?? {}), ...Object.keys(yml.outputs ?? {})].sort());
  });
});

describe('the committed bundle', () => {
  it('is what node actions/scripts/bundle.mjs builds from the sources today', async () => {
    const run = promisify(execFile);
    const result = await run(process.execPath, [path.join(actionsDir, 'scripts', 'bundle.mjs'), '--check'], { cwd: path.resolve(actionsDir, '..') }).catch((error: { stderr: string; code: number }) => error);
    expect('stderr' in result ? result.stderr : '').toBe('');
  }, 60_000);
});
