// shipgate as a team outside this repository gets it: every package packed by the release script,
// the tarballs installed with plain `npm install` into an empty project in the OS temp directory
// (no node_modules above it, NODE_PATH unset, third-party packages from npm's configured registry),
// then used there the way the root README's Install section says:
//   * `npx shipgate run` on a small pipeline (files written, outputs passed between steps, report);
//   * `shipgate db check` (the test harness's plugin command) on migrations and a seed;
//   * a jest test with the harness preset, once as ES modules and once as CommonJS;
//   * `shipgate-bolt` answering /healthz (its Slack Web API is a stand-in on 127.0.0.1);
//   * the Danger rules under the real `danger local --failOnErrors` on a git repository.
// One install (the slow part: about a minute) serves every case. In CI it always runs; elsewhere it
// skips, saying why, when npm cannot reach its registry. SHIPGATE_RELEASE_DIR names tarballs
// already packed (the release workflow's); otherwise the test packs them from the built dist/.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// the release script (plain JS without declarations, imported through a variable as in release.test.ts)
const releaseScript = '../../scripts/release.mjs';
const { publishedPackages } = (await import(releaseScript)) as { publishedPackages(): { manifest: { name: string } }[] };

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const inCi = process.env.CI === 'true';
const installTimeoutMs = 360_000;

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The environment of a user's shell: nothing of this repository's npm run, jest or NODE_PATH. */
function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^(npm_|NODE_PATH$|NODE_OPTIONS$|INIT_CWD$|JEST_WORKER_ID$|SHIPGATE_|NODE_ENV$)/i.test(key)) env[key] = value;
  }
  // the Node this test runs on (24) first, so `npm`, `npx` and `#!/usr/bin/env node` use it
  env.PATH = `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ''}`;
  return { ...env, ...extra };
}

function run(command: string, args: readonly string[], options: { cwd: string; timeoutMs: number; env?: Record<string, string> }): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(command, [...args], { cwd: options.cwd, env: userEnv(options.env), timeout: options.timeoutMs, maxBuffer: 1 << 26, encoding: 'utf8' }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

function write(file: string, text: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
}

/** Why npm cannot install from its registry here, or undefined when it can. */
async function registryUnreachable(cwd: string): Promise<string | undefined> {
  const ping = await run('npm', ['view', 'jest@30', 'version', '--json'], { cwd, timeoutMs: 30_000 });
  return ping.code === 0 ? undefined : `npm cannot reach its registry (npm view exited ${ping.code}: ${ping.stderr.trim().split('\n').pop() ?? ''})`;
}

/** The release tarballs: those in SHIPGATE_RELEASE_DIR, else packed now by scripts/release.mjs. */
async function tarballs(scratch: string): Promise<string[]> {
  let dir = process.env.SHIPGATE_RELEASE_DIR ? path.resolve(root, process.env.SHIPGATE_RELEASE_DIR) : '';
  if (!dir) {
    if (!existsSync(path.join(root, 'pipelines/cli/dist/bundle/shipgate.cjs'))) throw new Error('build first: npm run build (the tarballs are packed from dist/)');
    dir = path.join(scratch, 'release');
    const packed = await run(process.execPath, [path.join(root, 'scripts/release.mjs'), '--out', dir], { cwd: root, timeoutMs: 180_000 });
    if (packed.code !== 0) throw new Error(`scripts/release.mjs failed:\n${packed.stderr}`);
  }
  const sums = readFileSync(path.join(dir, 'SHA256SUMS'), 'utf8').trim().split('\n');
  return sums.map((line) => path.join(dir, line.split('  ')[1]!));
}

const version = (JSON.parse(readFileSync(path.join(root, 'pipelines/cli/package.json'), 'utf8')) as { version: string }).version;

let scratch = '';
let project = '';
let skipReason: string | undefined;
const started: ChildProcess[] = [];
const servers: Server[] = [];

beforeAll(async () => {
  scratch = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'shipgate-install-')));
  project = path.join(scratch, 'project');
  mkdirSync(project);
  const unreachable = await registryUnreachable(project);
  if (unreachable) {
    if (inCi) throw new Error(`${unreachable}; CI must be able to install from it`);
    skipReason = unreachable;
    process.stdout.write(`pack-install-run: skipped outside CI: ${unreachable}\n`);
    return;
  }
  const packages = await tarballs(scratch);
  write(path.join(project, 'package.json'), `${JSON.stringify({ name: 'install-check', private: true, version: '1.0.0' }, null, 2)}\n`);
  // exactly the README's command: the tarballs, plus danger and jest from the registry
  const installed = await run('npm', ['install', '--save-dev', '--no-audit', '--no-fund', ...packages, 'danger@14', 'jest@30'], { cwd: project, timeoutMs: installTimeoutMs - 60_000 });
  if (installed.code !== 0) throw new Error(`npm install failed (${installed.code}):\n${installed.stderr.slice(-4000)}`);
}, installTimeoutMs);

afterAll(async () => {
  for (const child of started) if (child.exitCode === null) child.kill('SIGKILL');
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** For cases that need the install; says so once per case when it was skipped. */
function installed(): boolean {
  if (skipReason) process.stdout.write(`skipped: ${skipReason}\n`);
  return !skipReason;
}

const npx = (args: readonly string[], cwd = project, env: Record<string, string> = {}, timeoutMs = 120_000) => run('npx', ['--no-install', ...args], { cwd, timeoutMs, env });

describe('the release tarballs installed into an empty project', () => {
  it('leave nothing of this repository reachable: no node_modules above the project, only tarballs from the release', () => {
    if (!installed()) return;
    for (let dir = path.dirname(project); dir !== path.dirname(dir); dir = path.dirname(dir)) expect(existsSync(path.join(dir, 'node_modules'))).toBe(false);
    expect(project.startsWith(realpathSync(root))).toBe(false);
    const lock = JSON.parse(readFileSync(path.join(project, 'package-lock.json'), 'utf8')) as { packages: Record<string, { resolved?: string; link?: boolean }> };
    const ours = Object.entries(lock.packages).filter(([key]) => key.startsWith('node_modules/@shipgate/'));
    expect(ours.map(([key]) => key).sort()).toEqual(
      // every package the release script publishes (the release test lists them), nothing else of ours
      publishedPackages()
        .map((p) => `node_modules/${p.manifest.name}`)
        .sort(),
    );
    for (const [, entry] of ours) {
      expect(entry.link).toBeUndefined();
      expect(entry.resolved).toMatch(/^file:.*\.tgz$/);
    }
    for (const name of readdirSync(path.join(project, 'node_modules/@shipgate'))) expect(existsSync(path.join(project, 'node_modules/@shipgate', name, 'LICENSE'))).toBe(true);
    // the command users run is the bundled one (what the startup figures are about)
    expect(existsSync(path.join(project, 'node_modules/@shipgate/cli/dist/bundle/shipgate.cjs'))).toBe(true);
  });

  it('npx shipgate runs a pipeline: files written, outputs passed on, a report', async () => {
    if (!installed()) return;
    const dir = path.join(scratch, 'pipeline');
    write(
      path.join(dir, 'shipgate.yml'),
      [
        'name: install-check',
        'steps:',
        '  build:',
        '    outputs: [version]',
        '    run: |',
        '      mkdir -p out',
        '      echo "built by shipgate" > out/artifact.txt',
        '      echo "version=1.2.3" >> "$SHIPGATE_OUTPUT"',
        '  test:',
        '    needs: build',
        '    run: |',
        '      test -f out/artifact.txt',
        '      echo "tested ${{ steps.build.outputs.version }}" > out/test.txt',
        '',
      ].join('\n'),
    );
    expect((await npx(['shipgate', '--version'], project)).stdout.trim()).toBe(version);
    const ran = await npx(['shipgate', '-C', dir, 'run']);
    expect(ran.stderr).not.toMatch(/internal error/);
    expect(ran.code).toBe(0);
    expect(readFileSync(path.join(dir, 'out/artifact.txt'), 'utf8')).toBe('built by shipgate\n');
    expect(readFileSync(path.join(dir, 'out/test.txt'), 'utf8')).toBe('tested 1.2.3\n');
    const report = JSON.parse(readFileSync(path.join(dir, '.shipgate/report.json'), 'utf8')) as { outcome: string; invocations: { id: string; outcome: string; outputs?: Record<string, string> }[] };
    expect(report.outcome).toBe('success');
    expect(report.invocations.map((s) => [s.id, s.outcome])).toEqual([
      ['build', 'success'],
      ['test', 'success'],
    ]);
    expect(report.invocations.find((s) => s.id === 'build')?.outputs).toEqual({ version: '1.2.3' });
    // and a broken pipeline is a one-line config error with exit code 2, not a stack trace
    write(path.join(dir, 'broken/shipgate.yml'), 'name: broken\nsteps:\n  a: { run: echo, needs: nowhere }\n');
    const broken = await npx(['shipgate', '-C', path.join(dir, 'broken'), 'validate']);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/^\S*broken\/shipgate\.yml:3:26: step "a" needs "nowhere", which is not a step \[config\.unknown-need\]$/m);
    expect(broken.stderr).not.toMatch(/\n\s+at /);
  }, 180_000);

  it('shipgate db check applies the migrations, loads the seed and compares the snapshot', async () => {
    if (!installed()) return;
    const dir = path.join(scratch, 'db');
    write(path.join(dir, 'db/migrations/V1__orders.sql'), 'CREATE TABLE orders (id serial PRIMARY KEY, total int NOT NULL);\n');
    write(path.join(dir, 'db/seed/001_orders.sql'), 'INSERT INTO orders (total) VALUES (500), (700);\n');
    const args = ['shipgate', '-C', dir, 'db', 'check', '--migrations', 'db/migrations', '--seed', 'db/seed'];
    const update = await npx([...args, '--update']);
    expect(update.stderr).toBe('');
    expect(update.code).toBe(0);
    expect(readFileSync(path.join(dir, 'db/schema.snapshot'), 'utf8')).toMatch(/orders/);
    const check = await npx(args);
    expect(check.code).toBe(0);
    expect(check.stdout).toMatch(/1 migration.* applied from zero/);
    expect(check.stdout).toMatch(/schema matches db\/schema\.snapshot/);
    // a migration without its snapshot update fails the check
    write(path.join(dir, 'db/migrations/V2__note.sql'), 'ALTER TABLE orders ADD COLUMN note text;\n');
    const drift = await npx(args);
    expect(drift.code).not.toBe(0);
    expect(`${drift.stdout}${drift.stderr}`).toMatch(/note/);
  }, 180_000);

  describe('a jest suite with the harness preset', () => {
    const seedProject = (dir: string) => {
      write(path.join(dir, 'db/migrations/V1__orders.sql'), 'CREATE TABLE orders (id serial PRIMARY KEY, total int NOT NULL);\n');
      write(path.join(dir, 'db/seed/001_orders.sql'), 'INSERT INTO orders (total) VALUES (500), (700);\n');
    };
    const body = [
      "it('sees the seed and adds an order', async () => {",
      "  await db.client.query('INSERT INTO orders (total) VALUES (900)');",
      "  expect((await db.client.query('SELECT count(*)::int AS n FROM orders')).rows[0].n).toBe(3);",
      '});',
      "it('gets a fresh database: the last test left nothing behind', async () => {",
      "  expect((await db.client.query('SELECT count(*)::int AS n FROM orders')).rows[0].n).toBe(2);",
      '});',
      '',
    ].join('\n');
    const jest = async (dir: string, config: string, env: Record<string, string> = {}) => {
      const ran = await npx(['jest', '--config', config, '--json', '--outputFile', 'results.json', '--ci'], dir, env, 150_000);
      const results = existsSync(path.join(dir, 'results.json')) ? (JSON.parse(readFileSync(path.join(dir, 'results.json'), 'utf8')) as { numPassedTests: number; numFailedTests: number }) : undefined;
      return { ran, results };
    };

    it('as ES modules (import, jest.config.mjs, --experimental-vm-modules)', async () => {
      if (!installed()) return;
      const dir = path.join(project, 'esm-suite');
      seedProject(dir);
      write(path.join(dir, 'package.json'), '{ "type": "module" }\n');
      write(path.join(dir, 'jest.config.mjs'), "export default {\n  preset: '@shipgate/test-harness/jest',\n  globals: { shipgateTestHarness: { migrations: 'db/migrations', seed: 'db/seed' } },\n  testMatch: ['**/*.test.js'],\n  transform: {},\n};\n");
      write(path.join(dir, 'orders.test.js'), `import { useTestDatabase } from '@shipgate/test-harness/jest';\nconst db = useTestDatabase();\n${body}`);
      const { ran, results } = await jest(dir, 'jest.config.mjs', { NODE_OPTIONS: '--experimental-vm-modules' });
      expect({ code: ran.code, results, stderr: results?.numPassedTests === 2 ? '' : ran.stderr.slice(-3000) }).toMatchObject({ code: 0, results: { numPassedTests: 2, numFailedTests: 0 } });
    }, 180_000);

    it('as CommonJS (require, jest.config.js with module.exports, no NODE_OPTIONS)', async () => {
      if (!installed()) return;
      const dir = path.join(project, 'cjs-suite');
      seedProject(dir);
      write(path.join(dir, 'package.json'), '{ "type": "commonjs" }\n');
      write(path.join(dir, 'jest.config.js'), "module.exports = {\n  preset: '@shipgate/test-harness/jest',\n  globals: { shipgateTestHarness: { migrations: 'db/migrations', seed: 'db/seed' } },\n  testMatch: ['**/*.test.js'],\n};\n");
      write(path.join(dir, 'orders.test.js'), `const { useTestDatabase } = require('@shipgate/test-harness/jest');\nconst db = useTestDatabase();\n${body}`);
      const { ran, results } = await jest(dir, 'jest.config.js');
      expect({ code: ran.code, results, stderr: results?.numPassedTests === 2 ? '' : ran.stderr.slice(-3000) }).toMatchObject({ code: 0, results: { numPassedTests: 2, numFailedTests: 0 } });
    }, 180_000);
  });

  it('shipgate-bolt starts and answers /healthz', async () => {
    if (!installed()) return;
    // Slack's Web API stand-in: the app asks auth.test once at start (who the bot is)
    const slack = createServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(req.url?.endsWith('/auth.test') ? { ok: true, user_id: 'UBOT00001', bot_id: 'BBOT00001', team_id: 'T00000001', user: 'shipgate', team: 'test' } : { ok: true }));
    });
    servers.push(slack);
    await new Promise<void>((resolve) => slack.listen(0, '127.0.0.1', resolve));
    const port = await freePort();
    const dir = path.join(scratch, 'bolt');
    write(path.join(dir, 'shipgate-bolt.yml'), 'environments:\n  prod:\n    channel: C0123456789\n    approvers: [U0AAAAAAA]\n');
    const bolt = spawn(path.join(project, 'node_modules/.bin/shipgate-bolt'), [], {
      cwd: dir,
      env: userEnv({
        SHIPGATE_CONFIG: 'shipgate-bolt.yml',
        SHIPGATE_DATA_DIR: path.join(dir, 'data'),
        SLACK_BOT_TOKEN: 'xoxb-install-check',
        SLACK_SIGNING_SECRET: 'install-check-signing-secret',
        SHIPGATE_API_TOKEN: 'install-check-api-token-0123456789',
        SLACK_API_URL: `http://127.0.0.1:${(slack.address() as AddressInfo).port}/api/`,
        HOST: '127.0.0.1',
        PORT: String(port),
      }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    started.push(bolt);
    let output = '';
    bolt.stdout.on('data', (d: Buffer) => (output += d.toString()));
    bolt.stderr.on('data', (d: Buffer) => (output += d.toString()));
    try {
      const health = await poll(async () => {
        if (bolt.exitCode !== null) throw new Error(`shipgate-bolt exited ${bolt.exitCode}:\n${output}`);
        const res = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
        return res?.ok ? ((await res.json()) as Record<string, unknown>) : undefined;
      }, 60_000);
      expect(health).toMatchObject({ ok: true, store: 'pglite', mode: 'http', environments: ['prod'] });
    } finally {
      bolt.kill('SIGTERM');
      await new Promise((resolve) => (bolt.exitCode !== null ? resolve(undefined) : bolt.once('exit', resolve)));
    }
    expect(bolt.exitCode).toBe(0);
  }, 120_000);

  describe('the Danger rules under the real danger local --failOnErrors', () => {
    const dangerfile = "import { schedule } from 'danger';\nimport { shipgateRules } from '@shipgate/danger';\n\nschedule(shipgateRules());\n";
    const git = async (cwd: string, ...args: string[]) => {
      const ran = await run('git', ['-c', 'user.name=install-check', '-c', 'user.email=install-check@localhost', ...args], { cwd, timeoutMs: 30_000 });
      if (ran.code !== 0) throw new Error(`git ${args.join(' ')}: ${ran.stderr}`);
    };
    /** A repository (inside the project, so it finds the project's node_modules) with a base branch. */
    const repository = async (name: string) => {
      const dir = path.join(project, name);
      write(path.join(dir, 'db/migrations/V1__orders.sql'), 'CREATE TABLE orders (id serial PRIMARY KEY, total int NOT NULL);\n');
      write(path.join(dir, 'db/seed/001_orders.sql'), 'INSERT INTO orders (total) VALUES (500), (700);\n');
      write(path.join(dir, 'dangerfile.ts'), dangerfile);
      await git(dir, 'init', '-q', '-b', 'main');
      await git(dir, 'add', '-A');
      await git(dir, 'commit', '-qm', 'base');
      await git(dir, 'checkout', '-qb', 'feature');
      write(path.join(dir, 'db/migrations/V2__note.sql'), 'ALTER TABLE orders ADD COLUMN note text;\n');
      return dir;
    };
    const danger = (dir: string) => npx(['danger', 'local', '--base', 'main', '--failOnErrors', '--dangerfile', 'dangerfile.ts'], dir, {}, 90_000);

    it('fails a migration committed without seed changes, with the rule’s message', async () => {
      if (!installed()) return;
      const dir = await repository('danger-without-seed');
      await git(dir, 'add', '-A');
      await git(dir, 'commit', '-qm', 'a migration, no seed');
      const ran = await danger(dir);
      expect(ran.code).toBe(1);
      expect(ran.stdout).toMatch(/This PR changes migrations \(db\/migrations\/V2__note\.sql\) but not the seed \/ init data or the schema snapshot/);
    }, 120_000);

    it('passes the same migration when the seed changed with it', async () => {
      if (!installed()) return;
      const dir = await repository('danger-with-seed');
      write(path.join(dir, 'db/seed/001_orders.sql'), "INSERT INTO orders (total, note) VALUES (500, 'first'), (700, NULL);\n");
      await git(dir, 'add', '-A');
      await git(dir, 'commit', '-qm', 'a migration with its seed');
      const ran = await danger(dir);
      expect({ code: ran.code, out: ran.code === 0 ? '' : ran.stdout + ran.stderr }).toEqual({ code: 0, out: '' });
      expect(ran.stdout).not.toMatch(/This PR changes migrations/);
    }, 120_000);
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** Calls `probe` every 250 ms until it gives a value; fails after `timeoutMs`. */
async function poll<T>(probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`no answer within ${timeoutMs} ms`);
}
