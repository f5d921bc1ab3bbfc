import { describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import { defineStep, StepRegistry } from '@shipgate/protocol';
import { defaultRegistry } from '@shipgate/cli';

describe('defineStep', () => {
  it('rejects a name that is not lower-case words joined by -', () => {
    expect(() => defineStep({ name: 'DbTest', description: 'x', inputs: z.object({}), run: async () => {} })).toThrow(
      /lower-case/,
    );
  });

  it('registers the built-in run step', () => {
    expect(defaultRegistry().names()).toContain('run');
  });

  it('refuses to register two steps under one name', () => {
    const step = defineStep({ name: 'twice', description: 'x', inputs: z.object({}), run: async () => {} });
    expect(() => new StepRegistry([step, step])).toThrow(/registered twice/);
  });
});

describe('StepRegistry: deferred steps', () => {
  const make = (name: string) => defineStep({ name, description: name, inputs: z.object({}), run: async () => {} });

  it('names deferred steps before loading them, and loads a group once when one of its steps is needed', async () => {
    let loads = 0;
    const registry = new StepRegistry([make('run')]).defer(['b-step', 'a-step'], async () => {
      loads += 1;
      return [make('a-step'), make('b-step')];
    });
    expect(registry.names()).toEqual(['a-step', 'b-step', 'run']);
    expect(() => registry.get('a-step')).toThrow(/not loaded yet/);
    await registry.ready(['run', 'unknown']); // neither is deferred: nothing loads
    expect(loads).toBe(0);
    await Promise.all([registry.ready(['a-step']), registry.ready(['b-step'])]);
    expect(loads).toBe(1);
    expect(registry.get('b-step')?.name).toBe('b-step');
    expect(registry.list().map((s) => s.name)).toEqual(['a-step', 'b-step', 'run']);
  });

  it('ready() without names loads every deferred group', async () => {
    const registry = new StepRegistry().defer(['one'], async () => [make('one')]).defer(['two'], async () => [make('two')]);
    expect(() => registry.list()).toThrow(/not loaded yet/);
    await registry.ready();
    expect(registry.list().map((s) => s.name)).toEqual(['one', 'two']);
  });

  it('refuses a deferred name that is registered already, and a module that defines other steps than it declared', async () => {
    expect(() => new StepRegistry([make('run')]).defer(['run'], async () => [])).toThrow(/registered twice/);
    const declaredMore = new StepRegistry().defer(['x-step', 'y-step'], async () => [make('x-step')]);
    await expect(declaredMore.ready(['x-step'])).rejects.toThrow(/defines x-step \(missing y-step\)/);
    const definedMore = new StepRegistry().defer(['x-step'], async () => [make('x-step'), make('z-step')]);
    await expect(definedMore.ready()).rejects.toThrow(/defines x-step, z-step/);
  });
});
