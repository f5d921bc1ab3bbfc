// The root README's shipgate.yml snippets are real pipelines: each parses and plans with every
// built-in and first-party step, so a renamed input or step breaks this test, not a reader's day.
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { defaultRegistry, loadPlugins } from '@shipgate/cli';
import { parsePipeline, planPipeline } from '@shipgate/core';

// the steps of the plugins a test loaded (db-test), for defaultRegistry
let plugins: Awaited<ReturnType<typeof loadPlugins>> = [];

const root = path.resolve(import.meta.dirname, '../..');
const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
const pipelines = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!).filter((y) => /^steps:/m.test(y));

describe('root README pipelines', () => {
  it('has the quick-start and the deploy pipelines', () => {
    expect(pipelines.length).toBeGreaterThanOrEqual(2);
  });

  it.each(pipelines.map((yaml, i) => [i, yaml] as const))('snippet %i parses and plans', async (_i, yaml) => {
    plugins = await loadPlugins({}, root);
    const spec = parsePipeline(yaml, path.join(root, 'README.md'), { registry: defaultRegistry(plugins) });
    const plan = planPipeline(spec);
    expect(plan.nodes.length).toBeGreaterThan(0);
  });

  it('the deploy pipeline runs gate → image → approval → deploy → promote in that order', () => {
    const deploy = pipelines.find((y) => y.includes('uses: codedeploy'))!;
    const spec = parsePipeline(deploy, path.join(root, 'README.md'), { registry: defaultRegistry(plugins) });
    const plan = planPipeline(spec);
    const level = (id: string) => plan.levels.findIndex((l) => l.includes(id));
    const order = ['unit', 'gate', 'image', 'approve', 'deploy', 'promote'].map(level);
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(new Set(order).size).toBe(order.length);
  });
});

// The pipelines README's complete examples (those with name: and steps:) are validated exactly as
// `shipgate validate` does, the shipgate.yml reference first: a reader copies it before anything else.
const pipelinesReadme = readFileSync(path.join(root, 'pipelines/README.md'), 'utf8');
const complete = [...pipelinesReadme.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!).filter((y) => /^name:/m.test(y) && /^steps:/m.test(y));

describe('pipelines README pipelines', () => {
  it('has the shipgate.yml reference example first', () => {
    const reference = pipelinesReadme.slice(pipelinesReadme.indexOf('## `shipgate.yml` reference'));
    expect(reference.slice(reference.indexOf('```yaml\n') + 8)).toMatch(/^name: orders-service/);
    expect(complete.length).toBeGreaterThanOrEqual(3);
  });

  it.each(complete.map((yaml, i) => [i, yaml] as const))('example %i validates without warnings', async (_i, yaml) => {
    plugins = await loadPlugins({}, root);
    const warnings: string[] = [];
    const spec = parsePipeline(yaml, path.join(root, 'pipelines/README.md'), { registry: defaultRegistry(plugins), onWarning: (w) => warnings.push(w.format()) });
    expect(planPipeline(spec).nodes.length).toBeGreaterThan(0);
    expect(warnings).toEqual([]);
  });
});
