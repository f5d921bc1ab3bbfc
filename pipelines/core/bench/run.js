// Engine benchmark (node pipelines/core/bench/run.js after npm run build). Same machine, same run, against the obvious
// alternative:
//  1. a 200-step DAG of `sleep` steps with a known critical path: shipgate vs GNU `make -j`;
//  2. scheduling overhead per step for 1,000 no-op steps;
//  3. a fully cached re-run of the quick-start pipeline vs an uncached run.
// Prints a table with the ratios and whether each target is met. Needs `npm run build` first.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { criticalPath, parsePipeline, planPipeline, runPipeline } from '@shipgate/core';
import { defineStep, StepRegistry } from '@shipgate/protocol';
import { defaultRegistry } from '@shipgate/cli';

const here = path.dirname(new URL(import.meta.url).pathname);
const repo = path.resolve(here, '../../..');
const cli = path.join(repo, 'pipelines/cli/dist/cli/main.js');
const jobs = 64;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// deterministic pseudo-random numbers (mulberry32), so every run benchmarks the same DAG
function rng(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** 200 steps in 12 layers; each needs 1–3 steps of earlier layers; sleeps of 50–200 ms. */
function sleepDag() {
  const random = rng(42);
  const steps = [];
  const layers = 12;
  for (let i = 0; i < 200; i += 1) {
    const layer = Math.floor((i * layers) / 200);
    const earlier = steps.filter((s) => s.layer < layer);
    const needs = new Set();
    const count = earlier.length ? 1 + Math.floor(random() * 3) : 0;
    for (let k = 0; k < count; k += 1) needs.add(earlier[Math.floor(random() * earlier.length)].id);
    steps.push({ id: `s${i}`, layer, sleepMs: 50 + Math.floor(random() * 151), needs: [...needs] });
  }
  return steps;
}

async function benchSleepDag() {
  const steps = sleepDag();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sg-bench-dag-'));
  try {
    const yaml = ['name: dag', 'steps:', ...steps.map((s) => `  ${s.id}: { run: "sleep ${(s.sleepMs / 1000).toFixed(3)}"${s.needs.length ? `, needs: [${s.needs.join(', ')}]` : ''} }`)].join('\n');
    writeFileSync(path.join(dir, 'shipgate.yml'), yaml);
    const makefile = [
      `all: ${steps.map((s) => s.id).join(' ')}`,
      `.PHONY: all ${steps.map((s) => s.id).join(' ')}`,
      ...steps.map((s) => `${s.id}: ${s.needs.join(' ')}\n\t@sleep ${(s.sleepMs / 1000).toFixed(3)}`),
    ].join('\n');
    writeFileSync(path.join(dir, 'Makefile'), `${makefile}\n`);

    const registry = defaultRegistry();
    const spec = parsePipeline(yaml, path.join(dir, 'shipgate.yml'), { registry });
    const plan = planPipeline(spec);
    const cp = criticalPath(plan, Object.fromEntries(steps.map((s) => [s.id, s.sleepMs])));

    const shipgate = [];
    const make = [];
    // like `shipgate run` does, each run is told the step durations of the run before it, so steps
    // on the critical path start first when many are ready at once
    let durationsMs;
    for (let round = 0; round < 4; round += 1) {
      let t = performance.now();
      const result = await runPipeline(plan, { registry, stateDir: path.join(dir, '.shipgate'), maxParallel: jobs, noCache: true, durationsMs });
      if (round > 0) shipgate.push(performance.now() - t);
      if (result.outcome !== 'success') throw new Error('the benchmark pipeline failed');
      durationsMs = Object.fromEntries(Object.values(result.invocations).map((i) => [i.stepId, i.durationMs]));
      if (round === 0) continue;
      t = performance.now();
      execFileSync('make', ['-s', '-j', String(jobs), '-C', dir], { stdio: 'ignore' });
      make.push(performance.now() - t);
    }
    return { criticalMs: cp.totalMs, pathLength: cp.path.length, shipgateMs: median(shipgate), makeMs: median(make) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function benchNoops() {
  const noop = defineStep({ name: 'noop', description: 'does nothing', inputs: z.object({}), async run() {} });
  const registry = new StepRegistry([noop]);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sg-bench-noop-'));
  try {
    // 10 layers of 100; each step needs two steps of the layer before
    const lines = ['name: noops', 'steps:'];
    for (let i = 0; i < 1000; i += 1) {
      const layer = Math.floor(i / 100);
      const needs = layer === 0 ? '' : `, needs: [n${(layer - 1) * 100 + (i % 100)}, n${(layer - 1) * 100 + ((i + 37) % 100)}]`;
      lines.push(`  n${i}: { uses: noop${needs} }`);
    }
    const yaml = lines.join('\n');
    const times = [];
    let planMs = 0;
    for (let round = 0; round < 3; round += 1) {
      const t0 = performance.now();
      const spec = parsePipeline(yaml, path.join(dir, 'shipgate.yml'), { registry });
      const plan = planPipeline(spec);
      planMs = performance.now() - t0;
      const t = performance.now();
      const result = await runPipeline(plan, { registry, stateDir: path.join(dir, '.shipgate'), noCache: true });
      times.push(performance.now() - t);
      if (result.outcome !== 'success') throw new Error('no-op pipeline failed');
    }
    return { perStepMs: median(times) / 1000, totalMs: median(times), planMs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function benchQuickstartCache() {
  const run = (args) => {
    const t = performance.now();
    const r = spawnSync(process.execPath, [cli, '-C', path.join(repo, 'examples/orders-service'), 'run', '--reporter', 'plain', ...args], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`quick-start run failed:\n${r.stdout}\n${r.stderr}`);
    return performance.now() - t;
  };
  const uncached = [];
  const cached = [];
  for (let round = 0; round < 3; round += 1) {
    uncached.push(run(['--no-cache']));
    run([]); // records the cache for this exact state
    cached.push(run([]));
  }
  return { uncachedMs: median(uncached), cachedMs: median(cached) };
}

const fmt = (ms) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`);
const dag = await benchSleepDag();
const noops = await benchNoops();
const quick = benchQuickstartCache();

const rows = [
  ['200-step sleep DAG: shipgate wall / critical path', `${fmt(dag.shipgateMs)} / ${fmt(dag.criticalMs)}`, (dag.shipgateMs / dag.criticalMs).toFixed(3), '≤ 1.05'],
  [`200-step sleep DAG: shipgate / make -j ${jobs}`, `${fmt(dag.shipgateMs)} / ${fmt(dag.makeMs)}`, (dag.shipgateMs / dag.makeMs).toFixed(3), '≤ 1.05'],
  ['1,000 no-op steps: scheduling overhead per step', `${fmt(noops.totalMs)} total`, `${noops.perStepMs.toFixed(3)} ms`, '≤ 2 ms'],
  ['quick start: cached re-run / uncached run', `${fmt(quick.cachedMs)} / ${fmt(quick.uncachedMs)}`, (quick.cachedMs / quick.uncachedMs).toFixed(3), '≤ 0.10'],
];
const met = [dag.shipgateMs / dag.criticalMs <= 1.05, dag.shipgateMs / dag.makeMs <= 1.05, noops.perStepMs <= 2, quick.cachedMs / quick.uncachedMs <= 0.1];
console.log(`shipgate engine benchmark — node ${process.version}, ${os.availableParallelism()} CPUs, medians of 3`);
console.log(`critical path of the DAG: ${dag.pathLength} steps; parse + plan of 1,000 steps: ${fmt(noops.planMs)}\n`);
console.log('| measure | times | ratio | target | met |');
console.log('| --- | --- | --- | --- | --- |');
rows.forEach((r, i) => console.log(`| ${r.join(' | ')} | ${met[i] ? 'yes' : 'NO'} |`));
