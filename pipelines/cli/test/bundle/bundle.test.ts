// The bundled `shipgate` (dist/bundle, what bin/shipgate.js runs and what users install): what it
// holds, what a `shipgate validate` loads, its code cache, and that the bundle's rewrites of imports
// keep every command working. The source-level rewrites are table-tested here; the commands are run
// through the real bin.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

type Metafile = { inputs: Record<string, { imports: { path: string; kind: string }[] }>; outputs: Record<string, { imports: { path: string; kind: string; external?: boolean }[]; inputs: Record<string, unknown> }> };
const cliDir = path.resolve(import.meta.dirname, '../..');
const bin = path.join(cliDir, 'bin', 'shipgate.js');
const { bundleCli } = (await import(path.join(cliDir, 'scripts', 'bundle.mjs'))) as { bundleCli(o: { write: boolean }): Promise<{ cli: Metafile; sdk: Metafile }> };
const { rewriteBarrelImports, rewriteBuiltinImports } = (await import(path.join(cliDir, 'scripts', 'barrel-imports.mjs'))) as {
  rewriteBarrelImports(source: string, packageIndex: (name: string) => string | undefined): string;
  rewriteBuiltinImports(source: string, requireName: string): string;
};
import { fakeAwsEnv, startAwsStandIn } from '../../../test/support/aws-stand-in.js';

const run = promisify(execFile);

describe('the imports the bundle rewrites', () => {
  const root = path.resolve(cliDir, '..');
  const packageIndex = (name: string) => (name === '@shipgate/core' || name === '@shipgate/protocol' ? path.join(root, name.slice('@shipgate/'.length), 'src', 'index.ts') : undefined);

  it('point an import from a package index at the modules that define the names', () => {
    const out = rewriteBarrelImports("import { loadPipeline, planPipeline as plan, type Plan } from '@shipgate/core';\nconst x = 1;\n", packageIndex);
    expect(out).toContain(`import { loadPipeline } from ${JSON.stringify(path.join(root, 'core/src/config/load.ts'))};`);
    expect(out).toContain(`import { planPipeline as plan } from ${JSON.stringify(path.join(root, 'core/src/plan/plan.ts'))};`);
    expect(out).not.toContain('Plan');
    expect(out.split('\n')).toHaveLength(3); // lines kept, so messages keep their locations
  });

  it('follow a re-export into another workspace package, and leave what they cannot follow', () => {
    // core's config index re-exports parseDuration from @shipgate/protocol
    const configIndex = (name: string) => (name === '@shipgate/core' ? path.join(root, 'core/src/config/index.ts') : packageIndex(name));
    expect(rewriteBarrelImports("import { parseDuration } from '@shipgate/core';", configIndex)).toBe(`import { parseDuration } from ${JSON.stringify(path.join(root, 'protocol/src/duration.ts'))};`);
    const untouched = ["import type { Plan } from '@shipgate/core';", "import * as core from '@shipgate/core';", "import { x } from '@shipgate/slack';", "import { z } from 'zod';"];
    for (const line of untouched) expect(rewriteBarrelImports(line, packageIndex)).toBe(line);
    // a name the index does not re-export by name stays on the index (esbuild then reports it)
    expect(rewriteBarrelImports("import { nothing } from '@shipgate/core';", packageIndex)).toContain(JSON.stringify(path.join(root, 'core/src/index.ts')));
  });

  it('can follow every package index: each only re-exports, one statement per line', () => {
    const indexes = readdirSync(root).map((name) => path.join(root, name, 'src', 'index.ts')).filter((file) => existsSync(file));
    expect(indexes.length).toBeGreaterThanOrEqual(8);
    for (const file of indexes) {
      const statements = readFileSync(file, 'utf8').split('\n').filter((line) => line.trim() && !line.startsWith('//'));
      expect([file, statements.filter((line) => !/^export (type )?(\{[^}]*\}|\*) from '[^']+';$/.test(line))]).toEqual([file, []]);
    }
  });

  it.each([
    ["import path from 'node:path';", 'const path = r("node:path");'],
    ["import { readFile, writeFile as write } from 'node:fs/promises';", 'const { readFile, writeFile: write } = r("node:fs/promises");'],
    ["import os, { EOL } from 'node:os';", 'const os = r("node:os"); const { EOL } = r("node:os");'],
    ["import * as fs from 'node:fs';", 'const fs = r("node:fs");'],
    ["import { type Stats, statSync } from 'node:fs';", 'const { statSync } = r("node:fs");'],
    ["import {\n  spawn,\n  execFile,\n} from 'node:child_process';", 'const { spawn, execFile } = r("node:child_process");\n\n\n'],
  ])('built-in import %j becomes a require of the names it takes', (source, expected) => {
    expect(rewriteBuiltinImports(source, 'r')).toBe(expected);
  });

  it.each(["import type { Stats } from 'node:fs';", "import 'node:fs';", "import { z } from 'zod';", "import x from './node:fs';"])('leaves %j as it is', (source) => {
    expect(rewriteBuiltinImports(source, 'r')).toBe(source);
  });
});

describe('what the bundle holds', () => {
  let metafiles: { cli: Metafile; sdk: Metafile };
  beforeAll(async () => {
    metafiles = await bundleCli({ write: false });
  }, 120_000);
  const inputsOf = (m: Metafile) => Object.values(m.outputs).flatMap((o) => Object.keys(o.inputs));

  it('is the CLI and every step package in shipgate.cjs, the AWS SDK in aws-sdk.cjs', () => {
    const cli = inputsOf(metafiles.cli);
    expect(cli).toEqual(expect.arrayContaining(['pipelines/core/src/config/load.ts', 'pipelines/aws/src/codedeploy/index.ts', 'pipelines/verify/src/index.ts']));
    expect(cli.filter((input) => /node_modules\/(@aws-sdk|@smithy)\//.test(input))).toEqual([]);
    expect(inputsOf(metafiles.sdk).some((input) => input.includes('node_modules/@aws-sdk/client-codedeploy/'))).toBe(true);
  });

  it('reads no getter of a built-in that loads a subsystem (stdin, the streams, the fetch stack) from its own modules', () => {
    const shims = inputsOf(metafiles.cli).filter((input) => input.startsWith('builtin'));
    expect(shims).toContain('builtin-named:node:child_process#'); // commander's, loaded on first use
    expect(shims.filter((input) => /^builtin-named:node:(process|fs|util|http)#.*\b(stdin|ReadStream|diff|WebSocket)\b/.test(input))).toEqual([]);
  });
});

describe('the bundled command', () => {
  let dir: string;
  beforeAll(() => {
    if (!existsSync(path.join(cliDir, 'dist', 'bundle', 'shipgate.cjs'))) throw new Error('no bundle: npm run build writes it');
    dir = mkdtempSync(path.join(os.tmpdir(), 'shipgate-bundle-'));
    const steps = Array.from({ length: 20 }, (_, i) => `  s${i}:\n    run: echo ${i} > out-${i}.txt\n${i ? `    needs: s${i - 1}\n` : ''}`).join('');
    writeFileSync(path.join(dir, 'shipgate.yml'), `name: bundled\nsteps:\n${steps}`);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const shipgate = (...args: string[]) => run(process.execPath, [bin, ...args], { cwd: dir, env: { ...process.env, CI: 'true', NO_COLOR: '1', SHIPGATE_CACHE_DIR: path.join(dir, '.code-cache') }, timeout: 60_000 });

  it('validates, plans and runs a pipeline, leaving the step outputs and the run report', async () => {
    expect((await shipgate('validate')).stdout).toBe('shipgate.yml: ok — 20 steps, 20 invocations, 20 levels\n');
    const plan = JSON.parse((await shipgate('plan', '--json')).stdout) as { levels: string[][] };
    expect(plan.levels).toHaveLength(20);
    await shipgate('run', '--reporter', 'plain');
    expect(readFileSync(path.join(dir, 'out-19.txt'), 'utf8').trim()).toBe('19');
    const report = JSON.parse(readFileSync(path.join(dir, '.shipgate', 'report.json'), 'utf8')) as { outcome: string; invocations: unknown[] };
    expect([report.outcome, report.invocations.length]).toEqual(['success', 20]);
    // the durations the run recorded are what plan estimates the critical path from
    expect(JSON.parse((await shipgate('plan', '--json')).stdout).criticalPath.estimatedFrom).toBe('last run');
  }, 120_000);

  it('calls AWS through the SDK bundle it requires on use (CodePipeline on a loopback endpoint)', async () => {
    const aws = await startAwsStandIn();
    try {
      aws.handlers.set('StartPipelineExecution', () => ({ pipelineExecutionId: 'e-bundled' }));
      const out = await run(process.execPath, [bin, 'codepipeline', 'start', '--pipeline', 'orders', '--no-wait', '--endpoint', aws.url, '--json'], { cwd: dir, env: { ...process.env, ...fakeAwsEnv, SHIPGATE_CACHE_DIR: path.join(dir, '.code-cache') }, timeout: 60_000 });
      expect(out.stdout).toContain('e-bundled');
      expect(aws.calls.map((c) => [c.target, c.input.name])).toEqual([['CodePipeline_20150709.StartPipelineExecution', 'orders']]);
      expect(aws.calls[0]!.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDFAKEKEYEXAMPLE\//); // signed by the real SDK
    } finally {
      await aws.close();
    }
  }, 60_000);

  it('reports a config error at its file, line and column, with no stack trace', async () => {
    writeFileSync(path.join(dir, 'bad.yml'), 'name: bad\nsteps:\n  a:\n    run: echo\n    needs: nope\n');
    const failed = await shipgate('-f', 'bad.yml', 'validate').catch((error: { code: number; stderr: string }) => error);
    expect('code' in failed && failed.code).toBe(2);
    expect((failed as { stderr: string }).stderr).toMatch(/^bad\.yml:5:\d+: .*nope/m);
    expect((failed as { stderr: string }).stderr).not.toMatch(/\bat .*\.m?js:\d+/);
  }, 60_000);

  it('loads the step packages a command needs (steps lists them all, schema describes their inputs)', async () => {
    const steps = JSON.parse((await shipgate('steps', '--json')).stdout) as { name: string }[];
    expect(steps.map((s) => s.name)).toEqual(expect.arrayContaining(['run', 'image', 'codedeploy', 'quality-gate', 'approval', 'verify']));
    const schema = JSON.parse((await shipgate('schema')).stdout) as object;
    expect(JSON.stringify(schema)).toContain('deployment-group');
    expect((await shipgate('deployments')).stdout).toMatch(/no deployments recorded here yet/);
  }, 60_000);
});

describe('the code cache of the bundled command', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'shipgate-code-cache-'));
    writeFileSync(path.join(dir, 'shipgate.yml'), 'name: cached\nsteps:\n  a: { run: echo a }\n  b: { run: echo b, needs: a }\n');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const cacheDir = () => path.join(dir, 'cache');
  const shipgate = (args: string[], env: Record<string, string> = {}) => run(process.execPath, [bin, ...args], { cwd: dir, env: { ...process.env, SHIPGATE_CACHE_DIR: cacheDir(), ...env }, timeout: 60_000 });
  const cacheFiles = () => (existsSync(cacheDir()) ? readdirSync(cacheDir()).sort() : []);
  const ok = 'shipgate.yml: ok — 2 steps, 2 invocations, 2 levels\n';

  it('is written by the first run, used as it is by the next, and made again by the first run of another command', async () => {
    expect((await shipgate(['validate'])).stdout).toBe(ok);
    const [cache, commands] = cacheFiles();
    expect([cache, commands]).toEqual([expect.stringMatching(/^cli-[0-9a-f]{16}-v\d+\.\d+\.\d+-\w+-[0-9a-f]{8}\.v8cache$/), `${cache}.commands`]);
    expect(statSync(path.join(cacheDir(), cache!)).mode & 0o077).toBe(0); // this user's only
    expect(statSync(cacheDir()).mode & 0o077).toBe(0);
    const first = readFileSync(path.join(cacheDir(), cache!));
    expect((await shipgate(['validate'])).stdout).toBe(ok);
    expect(readFileSync(path.join(cacheDir(), cache!)).equals(first)).toBe(true);
    await shipgate(['plan', '--json']);
    expect(readFileSync(path.join(cacheDir(), commands!), 'utf8').split('\n')).toEqual(['validate', 'plan']);
    expect(readFileSync(path.join(cacheDir(), cache!)).equals(first)).toBe(false);
  }, 60_000);

  it('is kept apart per set of Node flags, which V8 checks it against', async () => {
    await shipgate(['validate']);
    await shipgate(['validate'], { NODE_OPTIONS: '--max-old-space-size=512' });
    const caches = cacheFiles().filter((name) => name.endsWith('.v8cache'));
    expect(caches).toHaveLength(2);
    const before = caches.map((name) => readFileSync(path.join(cacheDir(), name)));
    await shipgate(['validate']);
    await shipgate(['validate'], { NODE_OPTIONS: '--max-old-space-size=512' });
    expect(caches.map((name, i) => readFileSync(path.join(cacheDir(), name)).equals(before[i]!))).toEqual([true, true]);
  }, 60_000);

  it('that V8 refuses (damaged) is made again, and the command runs as if there were none', async () => {
    await shipgate(['validate']);
    const [cache] = cacheFiles();
    const garbage = Buffer.alloc(4096, 7);
    writeFileSync(path.join(cacheDir(), cache!), garbage);
    expect((await shipgate(['validate'])).stdout).toBe(ok);
    const remade = readFileSync(path.join(cacheDir(), cache!));
    expect(remade.length).toBeGreaterThan(garbage.length);
  }, 60_000);

  it('is not used or written when turned off, or in a directory others may write', async () => {
    expect((await shipgate(['validate'], { SHIPGATE_CODE_CACHE: '0' })).stdout).toBe(ok);
    expect((await shipgate(['validate'], { NODE_DISABLE_COMPILE_CACHE: '1' })).stdout).toBe(ok);
    expect(cacheFiles()).toEqual([]);
    mkdirSync(cacheDir(), { mode: 0o700 });
    chmodSync(cacheDir(), 0o777); // anyone could plant a cache here
    expect((await shipgate(['validate'])).stdout).toBe(ok);
    expect(cacheFiles()).toEqual([]);
  }, 60_000);

  it("is not used from someone else's directory, or through a link", async () => {
    // root can give the directory away; anyone else tries the root-owned /, which is not theirs
    const foreign = process.getuid?.() === 0 ? path.join(dir, 'foreign') : '/';
    if (foreign !== '/') {
      mkdirSync(foreign, { mode: 0o700 });
      chownSync(foreign, 1, 1);
    }
    expect((await shipgate(['validate'], { SHIPGATE_CACHE_DIR: foreign })).stdout).toBe(ok);
    if (foreign !== '/') expect(readdirSync(foreign)).toEqual([]);
    // nor through a link to a directory of one's own (one planted under the temp dir, say)
    const own = path.join(dir, 'own');
    mkdirSync(own, { mode: 0o700 });
    symlinkSync(own, path.join(dir, 'link'));
    expect((await shipgate(['validate'], { SHIPGATE_CACHE_DIR: path.join(dir, 'link') })).stdout).toBe(ok);
    expect(readdirSync(own)).toEqual([]);
  }, 60_000);

  it('validate requires neither the AWS SDK nor anything else outside the bundle', async () => {
    const log = path.join(dir, 'required.txt');
    const preload = path.join(dir, 'record-requires.cjs');
    writeFileSync(preload, `const Module = require('node:module'); const fs = require('node:fs'); const seen = new Set(); const load = Module._load;\nModule._load = function (request, ...rest) { seen.add(request); return load.call(this, request, ...rest); };\nprocess.on('exit', () => fs.writeFileSync(${JSON.stringify(log)}, [...seen].join('\\n')));\n`);
    const out = await run(process.execPath, ['--require', preload, bin, 'validate'], { cwd: dir, env: { ...process.env, SHIPGATE_CACHE_DIR: cacheDir() }, timeout: 60_000 });
    expect(out.stdout).toBe(ok);
    const required = readFileSync(log, 'utf8').split('\n');
    expect(required).toContain('node:url'); // the bundle's own require() goes through the hook
    expect(required.filter((request) => !request.startsWith('node:') && !builtinModules.includes(request))).toEqual([]);
  }, 60_000);
});
