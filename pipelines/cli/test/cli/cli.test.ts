import { afterEach, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decodeOutputs, encodeInvocation } from '../../../protocol/src/wire.js';
import { cli } from '../../../test/helpers.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function workspace(yaml: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sg-cli-'));
  dirs.push(dir);
  writeFileSync(path.join(dir, 'shipgate.yml'), yaml);
  return dir;
}


const good = [
  'name: demo',
  'steps:',
  '  a:',
  '    run: echo "v=42" >> "$SHIPGATE_OUTPUT"',
  '    outputs: [v]',
  '  b:',
  '    needs: [a]',
  '    matrix: { n: [1, 2] }',
  '    run: echo "got ${{ steps.a.outputs.v }} n=${{ matrix.n }}"',
].join('\n');

describe('shipgate CLI', () => {
  it('validate: ok line and exit 0', async () => {
    const dir = workspace(good);
    expect(await cli(['validate'], dir)).toEqual({ code: 0, out: 'shipgate.yml: ok — 2 steps, 3 invocations, 2 levels\n', err: '' });
  });

  it('validate: a user mistake prints file:line:col and a hint, exits 2, no stack trace', async () => {
    const dir = workspace('name: demo\nsteps:\n  a: { run: echo, neds: [b] }\n');
    const r = await cli(['-C', dir, 'validate'], os.tmpdir());
    expect(r.code).toBe(2);
    expect(r.err).toContain(`${path.relative(os.tmpdir(), path.join(dir, 'shipgate.yml'))}:3:19: unknown key "neds" in steps.a — did you mean "needs"? [config.unknown-key]`);
    expect(r.err).toContain('hint: allowed keys:');
    expect(r.err).not.toMatch(/\n\s+at /);
  });

  it('a missing pipeline file says where it looked, exit 2', async () => {
    const dir = workspace(good);
    const r = await cli(['-f', 'nope.yml', 'validate'], dir);
    expect(r).toMatchObject({ code: 2 });
    expect(r.err).toContain('nope.yml: no such file [config.not-found]');
  });

  it('plan --json gives levels, steps and the critical path (what the Jenkins library reads)', async () => {
    const dir = workspace(good);
    const r = await cli(['plan', '--json'], dir);
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.out);
    expect(plan).toMatchObject({
      pipeline: 'demo',
      levels: [['a'], ['b']],
      steps: { a: { needs: [], uses: 'run', matrix: false, invocations: ['a'], executor: 'local' }, b: { needs: ['a'], matrix: true, invocations: ['b[n=1]', 'b[n=2]'] } },
      criticalPath: { path: ['a', 'b'], estimatedFrom: 'step count' },
    });
  });

  it('run: plain output, reports on disk, exit 0; then a failing run exits 1', async () => {
    const dir = workspace(good);
    const r = await cli(['run'], dir);
    expect(r.code).toBe(0);
    expect(r.out).toContain('[b[n=2]] got 42 n=2');
    expect(r.out).toMatch(/demo: success in .* — 3 succeeded, 0 cached, 0 failed, 0 skipped/);
    const report = JSON.parse(readFileSync(path.join(dir, '.shipgate', 'report.json'), 'utf8'));
    expect(report).toMatchObject({ pipeline: 'demo', outcome: 'success', counts: { success: 3 } });
    expect(readFileSync(path.join(dir, '.shipgate', 'junit.xml'), 'utf8')).toContain('<testcase classname="demo.b" name="b[n=1]"');

    writeFileSync(path.join(dir, 'shipgate.yml'), 'name: demo\nsteps:\n  bad: { run: "exit 4" }\n');
    const failed = await cli(['run'], dir);
    expect(failed.code).toBe(1);
    expect(failed.out).toContain('[bad] ✗ failure');
  });

  it('run: values of secret-looking env vars and SHIPGATE_SECRETS are masked in output and reports', async () => {
    const dir = workspace('name: demo\nsteps:\n  leak:\n    run: echo "token=$DEPLOY_TOKEN db=$DB_URL plain=$GREETING"; echo "v=$DEPLOY_TOKEN" >> "$SHIPGATE_OUTPUT"\n');
    const r = await cli(['run', '--reporter', 'plain'], dir, { DEPLOY_TOKEN: 's3cr3t-t0ken', DB_URL: 'postgres://u:pw@h/db', GREETING: 'hello-world', SHIPGATE_SECRETS: 'DB_URL' });
    expect(r.code).toBe(0);
    expect(r.out).toContain('token=*** db=*** plain=hello-world');
    const report = readFileSync(path.join(dir, '.shipgate', 'report.json'), 'utf8');
    expect(report).not.toContain('s3cr3t-t0ken');
    expect(`${r.out}${r.err}`).not.toContain('s3cr3t-t0ken');
  });

  it('run --reporter github folds steps into groups', async () => {
    const dir = workspace(good);
    const r = await cli(['run', '--reporter', 'github'], dir);
    expect(r.out).toContain('::group::✓ b[n=1]: success');
    expect(r.out).toContain('got 42 n=1\n::endgroup::');
  });

  it('run under GitHub Actions appends a Markdown table of the run to $GITHUB_STEP_SUMMARY', async () => {
    const dir = workspace(good);
    const summary = path.join(dir, 'summary.md');
    writeFileSync(summary, '# earlier content\n');
    const r = await cli(['run', '--reporter', 'github'], dir, { GITHUB_STEP_SUMMARY: summary });
    expect(r.code).toBe(0);
    const text = readFileSync(summary, 'utf8');
    expect(text.startsWith('# earlier content\n### shipgate: demo — success in ')).toBe(true);
    expect(text).toMatch(/\| `b\[n=2\]` \| ✅ success \| /);
    expect(text.match(/^\| `/gm)).toHaveLength(3);
  });

  it('rejects a bad flag value with exit 2', async () => {
    const dir = workspace(good);
    const r = await cli(['run', '--max-parallel', 'zero'], dir);
    expect(r.code).toBe(2);
    expect(r.err).toContain('--max-parallel must be a whole number ≥ 1, got "zero"');
  });

  it('--help works on every command', async () => {
    for (const command of [[], ['validate'], ['plan'], ['run'], ['step'], ['steps'], ['schema']]) {
      const r = await cli([...command, '--help'], os.tmpdir());
      expect(r.code).toBe(0);
      expect(r.out).toContain('Usage: shipgate');
    }
  });

  it('step: runs one invocation and prints its outputs marker; --invocation runs plain data', async () => {
    const dir = workspace(good);
    const r = await cli(['step', 'a'], dir);
    expect(r.code).toBe(0);
    expect(decodeOutputs(r.out.split('\n'))).toEqual({ v: '42' });

    const data = encodeInvocation({ id: 'x', stepId: 'x', uses: 'run', with: { script: 'echo "out=$GREETING" >> "$SHIPGATE_OUTPUT"' }, env: { GREETING: 'hi' }, workingDirectory: '.' });
    const remote = await cli(['step', '--invocation', data], dir);
    expect(remote.code).toBe(0);
    expect(decodeOutputs(remote.out.split('\n'))).toEqual({ out: 'hi' });

    const bad = await cli(['step', '--invocation', Buffer.from('{"id":1}').toString('base64')], dir);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('--invocation: id:');
  });

  it('schema prints a JSON Schema that knows the registered steps', async () => {
    const r = await cli(['schema'], os.tmpdir());
    const schema = JSON.parse(r.out);
    expect(schema.title).toBe('shipgate.yml');
    expect(schema.properties.steps.additionalProperties.properties.uses.enum).toContain('run');
  });
});

describe('the shipgate binary', () => {
  it('Ctrl-C stops the running steps and exits 130', async () => {
    const dir = workspace("name: demo\nsteps:\n  long: { run: 'echo $$ > long.pid; sleep 30' }\n");
    // the built binary, exactly as users run it (scripts/test.sh builds before the tests)
    const bin = path.resolve(import.meta.dirname, '../../dist/cli/main.js');
    expect(existsSync(bin)).toBe(true);
    const child = spawn(process.execPath, [bin, 'run'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    for (let i = 0; i < 100 && !existsSync(path.join(dir, 'long.pid')); i += 1) await new Promise((r) => setTimeout(r, 100));
    child.kill('SIGINT');
    const code = await closed;
    expect(code).toBe(130);
    expect(out).toContain('[long] ⊘ cancelled');
    const pid = Number(readFileSync(path.join(dir, 'long.pid'), 'utf8'));
    expect(() => process.kill(pid, 0)).toThrow();
  });
});
