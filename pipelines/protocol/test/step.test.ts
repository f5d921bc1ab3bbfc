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
