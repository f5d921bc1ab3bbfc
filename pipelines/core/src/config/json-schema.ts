// The JSON Schema of shipgate.yml, generated from the same zod schemas that validate it, plus
// each registered step's `with:` inputs selected by `uses:`. Editors use it for completion and
// inline errors (`# yaml-language-server: $schema=…`).
import * as z from 'zod';
import type { StepRegistry } from '@shipgate/protocol';
import { pipelineSchema } from './schema.js';

type JsonObject = Record<string, unknown>;

function toJson(schema: z.ZodType): JsonObject {
  return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', target: 'draft-7' }) as JsonObject;
}

export function pipelineJsonSchema(registry: StepRegistry): JsonObject {
  const root = toJson(pipelineSchema);
  const steps = (root.properties as JsonObject).steps as JsonObject;
  const step = steps.additionalProperties as JsonObject;
  const names = registry.names();
  (step.properties as JsonObject).uses = { ...((step.properties as JsonObject).uses as JsonObject), enum: names };
  step.allOf = registry.list().map((def) => {
    const { $schema: _ignored, ...inputs } = toJson(def.inputs);
    return {
      if: { properties: { uses: { const: def.name } }, required: ['uses'] },
      then: { properties: { with: { ...inputs, description: def.description } } },
    };
  });
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'shipgate.yml',
    ...Object.fromEntries(Object.entries(root).filter(([k]) => k !== '$schema')),
  };
}
