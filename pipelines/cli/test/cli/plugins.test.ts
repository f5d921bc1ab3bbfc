// Plugins named in SHIPGATE_PLUGINS, and the deferred import of a plugin whose package.json declares
// its steps ("shipgate": { "plugin", "steps" }): the fixture plugin records every import of its
// module in a file, so each test sees whether the command imported it.
import { afterEach, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { cli, temporaryDirectories } from '../../../test/helpers.js';

const dirs = temporaryDirectories('sg-plugins-');
afterEach(() => dirs.removeAll());

// zod by absolute URL: the fixture lives in a temporary directory without node_modules
const zodUrl = pathToFileURL(path.join(path.dirname(createRequire(import.meta.url).resolve('zod/package.json')), 'index.js')).href;

/** The `greet` step and the `hello` command; importing the module appends a line to imports.log. */
const pluginSource = `
import { appendFileSync, writeFileSync } from 'node:fs';
import { z } from ${JSON.stringify(zodUrl)};
appendFileSync(new URL('./imports.log', import.meta.url), 'imported\\n');
const greet = {
  name: 'greet',
  description: 'Writes a greeting to a file.',
  inputs: z.strictObject({ who: z.string().describe('whom to greet'), file: z.string() }),
  outputs: { greeting: 'what it wrote' },
  async run(ctx) {
    const text = 'hello ' + ctx.inputs.who;
    writeFileSync(ctx.cwd + '/' + ctx.inputs.file, text);
    ctx.setOutput('greeting', text);
  },
};
const hello = (program, io) => {
  program.command('hello').description('says hello').action(() => { io.stdout.write('hello from the plugin\\n'); });
};
export default { name: 'greeter', steps: [greet], commands: [hello] };
`;

/** A project with the greeter plugin in ./greeter (declaring its step when `manifest`) and a shipgate.yml. */
function project(yaml: string, manifest = true): { dir: string; imports(): number } {
  const dir = dirs.make();
  mkdirSync(path.join(dir, 'greeter'));
  const pkg = { name: 'greeter', type: 'module', ...(manifest ? { shipgate: { plugin: './plugin.js', steps: ['greet'] } } : {}) };
  writeFileSync(path.join(dir, 'greeter', 'package.json'), JSON.stringify(pkg));
  writeFileSync(path.join(dir, 'greeter', manifest ? 'plugin.js' : 'index.js'), pluginSource);
  writeFileSync(path.join(dir, 'shipgate.yml'), yaml);
  const log = path.join(dir, 'greeter', 'imports.log');
  return { dir, imports: () => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean).length : 0) };
}

const runOnly = 'name: plain\nsteps:\n  a: { run: "true" }\n  b: { run: "true", needs: a }\n';
const usesGreet = (withText: string) => `name: greeting\nsteps:\n  hi:\n    uses: greet\n    with: ${withText}\n`;
const env = { SHIPGATE_PLUGINS: './greeter' };

describe('a plugin that declares its steps is imported only when needed', () => {
  it('validate of a pipeline that does not use its steps does not import it', async () => {
    const p = project(runOnly);
    const r = await cli(['validate'], p.dir, env);
    expect(r).toMatchObject({ code: 0, err: '' });
    expect(r.out).toContain('ok — 2 steps');
    expect(p.imports()).toBe(0);
  });

  it('an unknown step still lists its steps, with a did-you-mean, without importing it', async () => {
    const p = project('name: typo\nsteps:\n  hi: { uses: gret }\n');
    const r = await cli(['validate'], p.dir, env);
    expect(r.code).not.toBe(0);
    expect(r.err).toContain('no step named "gret" — did you mean "greet"?');
    expect(r.err).toMatch(/registered steps: .*greet/);
    expect(p.imports()).toBe(0);
  });

  it('validate of a pipeline that uses its step imports it and checks the inputs against its schema', async () => {
    const p = project(usesGreet('{ who: ada, fiel: x }'));
    const r = await cli(['validate'], p.dir, env);
    expect(r.code).not.toBe(0);
    expect(r.err).toContain('greet has no input "fiel" — did you mean "file"?');
    expect(p.imports()).toBe(1);
  });

  it('run executes its step', async () => {
    const p = project(usesGreet('{ who: ada, file: greeting.txt }'));
    const r = await cli(['run'], p.dir, env);
    expect(r.code).toBe(0);
    expect(readFileSync(path.join(p.dir, 'greeting.txt'), 'utf8')).toBe('hello ada');
    expect(p.imports()).toBe(1);
  });

  it('steps and schema list its steps', async () => {
    const forSteps = project(runOnly);
    const steps = await cli(['steps', '--json'], forSteps.dir, env);
    expect((JSON.parse(steps.out) as { name: string }[]).map((s) => s.name)).toContain('greet');
    expect(forSteps.imports()).toBe(1);
    const forSchema = project(runOnly);
    const schema = await cli(['schema'], forSchema.dir, env);
    expect(schema.out).toContain('"whom to greet"');
    expect(forSchema.imports()).toBe(1);
  });

  it('its commands work, and help lists them', async () => {
    const p = project(runOnly);
    expect(await cli(['hello'], p.dir, env)).toMatchObject({ code: 0, out: 'hello from the plugin\n' });
    expect((await cli(['--help'], p.dir, env)).out).toMatch(/hello\s+says hello/);
  });

  it('a plugin without a manifest is imported at start, as before', async () => {
    const p = project(runOnly, false);
    expect((await cli(['validate'], p.dir, env)).code).toBe(0);
    expect(p.imports()).toBe(1);
  });
});

describe('the built shipgate command (bundle)', () => {
  const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/shipgate.js');
  const shipgate = (args: string[], cwd: string) => spawnSync(process.execPath, [bin, ...args], { cwd, encoding: 'utf8', timeout: 30_000, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env } });

  it('defers the plugin for validate, imports it for a pipeline that uses its step', () => {
    const plain = project(runOnly);
    expect(shipgate(['validate'], plain.dir).status).toBe(0);
    expect(plain.imports()).toBe(0);
    const greeting = project(usesGreet('{ who: ada, file: g.txt }'));
    const r = shipgate(['run'], greeting.dir);
    expect(r.status).toBe(0);
    expect(readFileSync(path.join(greeting.dir, 'g.txt'), 'utf8')).toBe('hello ada');
    expect(greeting.imports()).toBe(1);
  });

  it('lists db-test of the test harness without a pipeline that uses it', () => {
    const p = project(runOnly);
    expect(shipgate(['steps'], p.dir).stdout).toMatch(/^db-test\s/m);
  });
});
