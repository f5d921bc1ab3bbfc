import { beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pipelineJsonSchema } from '../../src/config/index.js';
import { defaultRegistry } from '../../../cli/src/cli/steps.js';
import { loadPlugins } from '../../../cli/src/cli/plugins.js';

// the steps of the plugins a test loaded (db-test), for defaultRegistry
let plugins: Awaited<ReturnType<typeof loadPlugins>> = [];

beforeAll(async () => {
  plugins = await loadPlugins({});
});

describe('JSON Schema for editors', () => {
  it('the committed schema/shipgate.schema.json is what the code generates (run `npm run schema -w @shipgate/cli` after changing it)', () => {
    const committed = JSON.parse(readFileSync(path.resolve(import.meta.dirname, '../../../cli/schema/shipgate.schema.json'), 'utf8'));
    expect(committed).toEqual(pipelineJsonSchema(defaultRegistry(plugins)));
  });

  it('describes steps, their keys and each registered step under uses:', () => {
    const schema = pipelineJsonSchema(defaultRegistry(plugins)) as any;
    const step = schema.properties.steps.additionalProperties;
    expect(schema.required).toEqual(['name', 'steps']);
    expect(Object.keys(step.properties)).toEqual(expect.arrayContaining(['run', 'uses', 'with', 'needs', 'matrix', 'if', 'timeout', 'retries', 'cache']));
    expect(step.additionalProperties).toBe(false);
    expect(step.allOf.find((r: any) => r.if.properties.uses.const === 'run').then.properties.with.required).toEqual(['script']);
    // plugin steps are part of the schema too
    expect(step.allOf.find((r: any) => r.if.properties.uses.const === 'db-test').then.properties.with.required).toEqual(['command']);
  });
});

describe('the schema accepts real pipelines and rejects bad ones (as an editor would)', () => {
  it('validates the quick-start shipgate.yml, and flags an unknown key', async () => {
    const { Ajv } = await import('ajv');
    const { parse } = await import('yaml');
    const ajv = new Ajv({ strict: false, allErrors: true });
    const validate = ajv.compile(pipelineJsonSchema(defaultRegistry(plugins)));
    const example = parse(readFileSync(path.resolve(import.meta.dirname, '../../../../examples/orders-service/shipgate.yml'), 'utf8'));
    expect(validate(example)).toBe(true);
    expect(validate({ name: 'x', steps: { a: { run: 'echo', nedes: ['b'] } } })).toBe(false);
    expect(validate({ name: 'x', steps: { a: { uses: 'run', with: {} } } })).toBe(false); // run needs script
  });
});
