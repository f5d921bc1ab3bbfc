// The CLI loads per command line: each command word maps to the module that registers it, and the
// built-in steps are registered by name and imported when used. These tables must match what the
// modules really register and define, or a command would be missing or a step unknown.
import { describe, expect, it } from '@jest/globals';
import { Command } from 'commander';
import { PassThrough } from 'node:stream';
import { StepRegistry } from '@shipgate/protocol';
import { commandModules, commandRegistrarsFor } from '../../src/cli/commands/index.js';
import { cliRegistry, deferredBuiltinSteps } from '../../src/cli/cli-registry.js';
import { builtinSteps } from '../../src/cli/steps.js';

const io = { stdout: new PassThrough(), stderr: new PassThrough(), cwd: process.cwd(), env: {}, isTTY: false, signal: new AbortController().signal };

describe('commands loaded per command line', () => {
  it('each command word is registered by the module the table names, and by no other', async () => {
    for (const [word, load] of Object.entries(commandModules)) {
      const program = new Command('shipgate');
      (await load())(program, io, () => {}, new StepRegistry());
      expect([word, program.commands.map((c) => c.name())]).toEqual([word, expect.arrayContaining([word])]);
    }
    const all = new Command('shipgate');
    for (const register of await commandRegistrarsFor(undefined)) register(all, io, () => {}, new StepRegistry());
    expect(all.commands.map((c) => c.name()).sort()).toEqual(Object.keys(commandModules).sort());
  });

  it('a known word loads its module only; help, nothing or an unknown word load every module', async () => {
    expect(await commandRegistrarsFor('validate')).toHaveLength(1);
    expect(await commandRegistrarsFor('rollback')).toHaveLength(1);
    const every = new Set(Object.values(commandModules)).size;
    for (const word of [undefined, 'help', 'db', 'valdate', 'constructor', '__proto__']) expect([word, (await commandRegistrarsFor(word)).length]).toEqual([word, every]);
  });
});

describe('built-in steps registered by name', () => {
  it('are exactly the built-in steps, each group defining the names it declares', async () => {
    const deferredNames = deferredBuiltinSteps.flatMap((g) => g.names);
    expect(['run', ...deferredNames].sort()).toEqual(builtinSteps.map((s) => s.name).sort());
    for (const group of deferredBuiltinSteps) expect((await group.load()).map((s) => s.name).sort()).toEqual([...group.names].sort());
  });

  it('are listed before they are loaded, and loaded by ready()', async () => {
    const registry = cliRegistry();
    expect(registry.names()).toEqual(builtinSteps.map((s) => s.name).sort());
    expect(registry.get('run')?.name).toBe('run');
    expect(() => registry.get('codedeploy')).toThrow(/not loaded yet/);
    await registry.ready(['codedeploy']);
    expect(registry.get('codedeploy')?.name).toBe('codedeploy');
    expect(registry.get('codepipeline')?.name).toBe('codepipeline');
    expect(() => registry.get('image')).toThrow(/not loaded yet/);
  });
});
