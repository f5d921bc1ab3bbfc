import { afterAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { dotString, mermaidLabel, renderPlanDot, renderPlanMermaid, type PlanGraph } from '../../src/report/graph.js';
import { cli } from '../../../test/helpers.js';

const plan: PlanGraph = {
  pipeline: 'orders "v2"',
  file: 'shipgate.yml',
  levels: [['lint', 'build'], ['unit'], ['deploy']],
  steps: {
    lint: { needs: [], uses: 'run', matrix: false, invocations: ['lint'], executor: 'local' },
    build: { needs: [], uses: 'run', matrix: true, invocations: ['build[target=api]', 'build[target=<worker>]'], executor: 'local' },
    unit: { needs: ['build'], uses: 'db-test', matrix: false, invocations: ['unit'], executor: 'local' },
    deploy: { needs: ['unit', 'lint'], uses: 'codedeploy', matrix: false, invocations: ['deploy'], executor: 'local' },
  },
  criticalPath: { path: ['build', 'unit', 'deploy'], totalMs: 3000, estimatedFrom: 'last run' },
};

describe('plan as Mermaid', () => {
  const text = renderPlanMermaid(plan);

  it.each([
    ['a level is a group', '  subgraph L1["level 1"]'],
    ['a matrix step is a box around its instances', '    subgraph s1["build ×2"]\n      direction TB\n      s1_0["build[target=api]"]\n      s1_1["build[target=#lt;worker#gt;]"]\n    end'],
    ['a registered step shows what it uses', '    s2["unit (db-test)"]'],
    ['critical edges are thick', '  s1 ==> s2\n  s2 ==> s3'],
    ['other edges are thin', '  s0 --> s3'],
    ['the critical steps are styled', '  class s1,s2,s3 critical'],
  ])('%s', (_name, fragment) => {
    expect(text).toContain(fragment);
  });

  it.each([
    ['plain', '"plain"'],
    ['say "hi"', '"say #quot;hi#quot;"'],
    ['a<b>&#c', '"a#lt;b#gt;#amp;#35;c"'],
    ['two\nlines', '"two lines"'],
  ])('label %j → %s', (input, expected) => {
    expect(mermaidLabel(input)).toBe(expected);
  });
});

describe('plan as Graphviz DOT', () => {
  const text = renderPlanDot(plan);

  it.each([
    ['the graph is named after the pipeline, escaped', 'digraph "orders \\"v2\\"" {'],
    ['levels are clusters', '  subgraph cluster_L2 {\n    label="level 2"'],
    ['a matrix step is a cluster of its instances', '    subgraph cluster_s1 {\n      label="build ×2"; style=rounded; color="#8250df"; penwidth=2.5;\n      s1_0 [label="build[target=api]", color="#8250df", penwidth=2.5];'],
    ['an edge from a matrix step leaves its box', '  s1_0 -> s2 [ltail=cluster_s1, color="#8250df", penwidth=2.5];'],
    ['a plain edge', '  s0 -> s3;'],
    ['a level is one column, matrix instances included', '  { rank=same; s0; s1_0; s1_1; }'],
  ])('%s', (_name, fragment) => {
    expect(text).toContain(fragment);
  });

  it.each([
    ['a"b', '"a\\"b"'],
    ['back\\slash', '"back\\\\slash"'],
    ['x\ny', '"x\\ny"'],
  ])('string %j → %s', (input, expected) => {
    expect(dotString(input)).toBe(expected);
  });

  // Graphviz is the parser that matters: it is installed by .ci/run (apt package graphviz)
  const dot = ['/usr/bin/dot', '/usr/local/bin/dot'].find((p) => existsSync(p));
  it('Graphviz reads it and draws every node and both kinds of edge', () => {
    if (!dot) {
      if (process.env.CI) throw new Error('graphviz (dot) must be installed in CI');
      console.warn('skipped: graphviz is not installed (apt-get install graphviz)');
      return;
    }
    const svg = spawnSync(dot, ['-Tsvg'], { input: text, encoding: 'utf8' });
    expect(svg.stderr).toBe('');
    expect(svg.status).toBe(0);
    for (const label of ['lint', 'build[target=api]', 'build[target=&lt;worker&gt;]', 'unit (db&#45;test)', 'deploy (codedeploy)']) expect(svg.stdout).toContain(label);
    expect(svg.stdout.match(/class="edge"/g)).toHaveLength(3);
  });
});

describe('shipgate plan --format', () => {
  const dirs: string[] = [];
  const workspace = (): string => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sg-plan-'));
    dirs.push(dir);
    writeFileSync(path.join(dir, 'shipgate.yml'), 'name: demo\nsteps:\n  a: { run: echo a }\n  b: { needs: [a], matrix: { n: [1, 2] }, run: echo b }\n');
    return dir;
  };
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it.each([
    ['mermaid', 'flowchart LR\n'],
    ['dot', 'digraph "demo" {\n'],
  ])('%s', async (format, start) => {
    const r = await cli(['plan', '--format', format], workspace());
    expect(r.code).toBe(0);
    expect(r.out.startsWith(start)).toBe(true);
  });

  it('json is what --json prints', async () => {
    const dir = workspace();
    const a = await cli(['plan', '--format', 'json'], dir);
    const b = await cli(['plan', '--json'], dir);
    expect(a.out).toBe(b.out);
    expect(JSON.parse(a.out)).toMatchObject({ levels: [['a'], ['b']], steps: { b: { invocations: ['b[n=1]', 'b[n=2]'] } } });
  });

  it('an unknown format is a usage error (exit 2) naming the choices', async () => {
    const r = await cli(['plan', '--format', 'svg'], workspace());
    expect(r.code).toBe(2);
    expect(r.err).toContain('Allowed choices are text, json, mermaid, dot');
  });
});
