// The README's quality-gate examples are valid shipgate.yml: each yaml block of the "Quality gate"
// section parses against the real step schema (a typo in the docs fails here, not in a user's CI).
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parsePipeline } from '../../core/src/config/index.js';
import { StepRegistry } from '../../protocol/src/step-registry.js';
import { builtinSteps } from '../../cli/src/cli/steps.js';

const readme = readFileSync(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../README.md'), 'utf8');
const section = readme.slice(readme.indexOf('\n## Quality gate\n'), readme.indexOf('\n## ', readme.indexOf('\n## Quality gate\n') + 5));
const blocks = [...section.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);

describe('README quality-gate examples', () => {
  it('has the examples this test checks', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(2);
  });

  it.each(blocks.map((block, i) => [i + 1, block] as const))('yaml block %d is a valid pipeline', (_n, block) => {
    // a fragment of `steps:` (indented) gets the steps it needs around it
    const text = block.startsWith('steps:') ? `name: readme\n${block}` : `name: readme\nsteps:\n  unit: { run: "true" }\n  lint: { run: "true" }\n${block}`;
    const spec = parsePipeline(text, 'README.md', { registry: new StepRegistry(builtinSteps) });
    const gate = spec.steps.find((s) => s.uses === 'quality-gate');
    expect(gate?.id).toBe('gate');
  });
});
