// The root README's shipgate.yml snippets are real pipelines: each parses and plans with every
// built-in and first-party step, so a renamed input or step breaks this test, not a reader's day.
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { defaultRegistry, loadPlugins, parsePipeline, planPipeline } from '@shipgate/pipelines';

const root = path.resolve(import.meta.dirname, '../..');
const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
const pipelines = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!).filter((y) => /^steps:/m.test(y));

describe('root README pipelines', () => {
  it('has the quick-start and the deploy pipelines', () => {
    expect(pipelines.length).toBeGreaterThanOrEqual(2);
  });

  it.each(pipelines.map((yaml, i) => [i, yaml] as const))('snippet %i parses and plans', async (_i, yaml) => {
    await loadPlugins({}, root);
    const spec = parsePipeline(yaml, path.join(root, 'README.md'), { registry: defaultRegistry() });
    const plan = planPipeline(spec);
    expect(plan.nodes.length).toBeGreaterThan(0);
  });

  it('the deploy pipeline runs gate → image → approval → deploy → promote in that order', () => {
    const deploy = pipelines.find((y) => y.includes('uses: codedeploy'))!;
    const spec = parsePipeline(deploy, path.join(root, 'README.md'), { registry: defaultRegistry() });
    const plan = planPipeline(spec);
    const level = (id: string) => plan.levels.findIndex((l) => l.includes(id));
    const order = ['unit', 'gate', 'image', 'approve', 'deploy', 'promote'].map(level);
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(new Set(order).size).toBe(order.length);
  });
});
