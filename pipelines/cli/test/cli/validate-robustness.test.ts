// Issue 14 §2–§4 through the CLI: empty flags, files that are not files, unreadable files, the run
// report that cannot be written, colour codes in logs, and an output nobody wrote. The cases that
// used to hang (a FIFO) run the built binary as users do, and SIGTERM must end it.
import { afterEach, describe, expect, it } from '@jest/globals';
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cli } from '../../../test/helpers.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function workspace(yaml?: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sg-robust-'));
  dirs.push(dir);
  if (yaml !== undefined) writeFileSync(path.join(dir, 'shipgate.yml'), yaml);
  return dir;
}

const bin = path.resolve(import.meta.dirname, '../../dist/cli/main.js');

/** Runs the built binary; sends SIGTERM after `termAfterMs` if it is still running. */
async function binary(args: string[], cwd: string, options: { termAfterMs?: number; uid?: number } = {}) {
  const started = performance.now();
  const child = spawn(process.execPath, [bin, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'], ...(options.uid !== undefined ? { uid: options.uid, gid: options.uid } : {}) });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const term = setTimeout(() => child.kill('SIGTERM'), options.termAfterMs ?? 5000);
  const kill = setTimeout(() => child.kill('SIGKILL'), 20_000); // the test fails below rather than hang
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('close', (c, s) => resolve([c, s])));
  clearTimeout(term);
  clearTimeout(kill);
  return { code, signal, out, err, ms: performance.now() - started };
}

const noStackTrace = (text: string) => {
  expect(text).not.toMatch(/internal error|\n\s+at \S+ \(/);
};

describe('flags that are empty are errors, not defaults', () => {
  it.each([
    [['-f', '', 'validate'], /-f\/--file is empty: give the pipeline file \[cli.empty-option\]/],
    [['-C', '', 'validate'], /-C\/--directory is empty: give a directory \[cli.empty-option\]/],
    [['run', '--only', ''], /needs at least one step id, got ""/],
    [['run', '--only', ' , '], /needs at least one step id/],
    [['plan', '--from', ''], /--from needs a step id, got an empty value/],
  ])('%j exits 2', async (args, message) => {
    const dir = workspace('name: x\nsteps:\n  a: { run: "true" }\n');
    const { code, err } = await cli(args, dir);
    expect(code).toBe(2);
    expect(err).toMatch(message);
    expect(existsSync(path.join(dir, '.shipgate'))).toBe(false); // nothing ran
  });
});

describe('files that are not pipeline files', () => {
  it('a directory given as -f', async () => {
    const dir = workspace();
    mkdirSync(path.join(dir, 'ci'));
    const { code, err } = await cli(['-f', 'ci', 'validate'], dir);
    expect(code).toBe(2);
    expect(err).toMatch(/ci is a directory, not a pipeline file \[config.not-a-file\]/);
  });

  it('a file over 1 MiB is refused without being parsed', async () => {
    const dir = workspace(`name: x\nsteps:\n  a: { run: "${'x'.repeat(1024 * 1024)}" }\n`);
    const { code, err } = await cli(['validate'], dir);
    expect(code).toBe(2);
    expect(err).toMatch(/shipgate.yml is 1.0 MiB; a pipeline file may be at most 1 MiB \[config.too-large\]/);
  });

  it('a FIFO: refused at once, no hang (the built binary, as users run it)', async () => {
    const dir = workspace();
    execFileSync('mkfifo', [path.join(dir, 'pipe.yml')]);
    const { code, err, ms } = await binary(['-f', 'pipe.yml', 'validate'], dir, { termAfterMs: 3000 });
    expect(code).toBe(2);
    expect(err).toMatch(/^shipgate: pipe.yml is not a regular file \(a pipe, socket or device\) \[config.not-a-file\]/);
    expect(ms).toBeLessThan(3000);
  });

  it('SIGTERM ends a validate of a large file (no signal is swallowed by a busy process)', async () => {
    const dir = workspace(`name: x\nsteps:\n  s0: { run: echo }\n${Array.from({ length: 19_999 }, (_, i) => `  s${i + 1}: { run: echo, needs: s${i} }`).join('\n')}\n`);
    const { code, signal, err, ms } = await binary(['validate'], dir, { termAfterMs: 300 });
    // either it had finished (0) or the signal ended it: 143 from shipgate's handler, or Node's
    // default action when the signal came while the CLI was still loading; never the SIGKILL fallback
    expect(code === 0 || code === 143 || (code === null && signal === 'SIGTERM')).toBe(true);
    noStackTrace(err);
    expect(ms).toBeLessThan(20_000);
  });

  it('an unreadable file is reported as unreadable, not as missing', async () => {
    const dir = workspace('name: x\nsteps:\n  a: { run: "true" }\n');
    chmodSync(path.join(dir, 'shipgate.yml'), 0o000);
    let result: { code: number | null; err: string };
    if (process.getuid?.() === 0) {
      // root reads every file: run the binary as nobody, in a directory nobody may enter
      chmodSync(dir, 0o755);
      result = await binary(['validate'], dir, { uid: 65534 });
    } else {
      result = await cli(['validate'], dir);
    }
    expect(result.code).toBe(2);
    expect(result.err).toMatch(/shipgate.yml: permission denied \(the file exists but cannot be read\) \[config.unreadable\]/);
  });

  it('binary input is escaped in messages, never echoed raw', async () => {
    const dir = workspace();
    writeFileSync(path.join(dir, 'shipgate.yml'), Buffer.from([0x6e, 0x61, 0x6d, 0x65, 0x3a, 0x20, 0x1b, 0x5b, 0x32, 0x4a, 0x00, 0x07, 0xff, 0xfe, 0x0a, 0x73, 0x74, 0x65, 0x70, 0x73, 0x3a, 0x20, 0x5b, 0x0a]));
    const { code, err } = await cli(['validate'], dir);
    expect(code).toBe(2);
    expect([...err].filter((c) => c.charCodeAt(0) < 0x20 && c !== '\n')).toEqual([]);
    for (const line of err.trimEnd().split('\n')) expect(line).toMatch(/^shipgate\.yml:\d+:\d+: \S.* \[config\.[a-z-]+\]$|^ {2}hint: /);
  });
});

describe('a multi-problem report', () => {
  it('prints every problem line as file:line:col: message [code]', async () => {
    const dir = workspace('name: []\nsteps:\n  a: { run: echo, retries: two, needs: [zz] }\n  b: { run: echo, timeout: 900h }\n');
    const { code, err } = await cli(['validate'], dir);
    expect(code).toBe(2);
    const lines = err.trimEnd().split('\n').filter((l) => !l.startsWith('  hint: '));
    expect(lines).toEqual([
      'shipgate.yml:1:7: name: must be a name, such as orders-service (got a list) [config.type]',
      'shipgate.yml:3:28: steps.a.retries: must be a whole number from 0 to 10, such as 2 (got "two") [config.type]',
    ]);
  });

  it('warns about a step whose outputs are read but not declared, and still validates', async () => {
    const dir = workspace('name: x\nsteps:\n  a: { run: "true" }\n  b: { run: "echo ${{ steps.a.outputs.v }}", needs: [a] }\n');
    const { code, err } = await cli(['validate'], dir);
    expect(code).toBe(0);
    expect(err).toBe('shipgate.yml:3:3: warning: step "a" declares no outputs, but other steps read steps.a.outputs.v [config.undeclared-outputs]\n  hint: declare them: outputs: [v] — then validate checks every read\n');
  });
});

describe('shipgate run', () => {
  it('a report directory that cannot be written leaves a successful run successful, with a warning', async () => {
    const dir = workspace('name: x\nsteps:\n  a: { run: "true" }\n');
    writeFileSync(path.join(dir, 'not-a-dir'), 'a file where the report directory should be');
    const { code, err } = await cli(['run', '--report-dir', 'not-a-dir/reports'], dir);
    expect(code).toBe(0);
    expect(err).toMatch(/^shipgate: warning: could not write the run report \((ENOTDIR|EEXIST)[^)]*\) \[report.write\]$/m);
    noStackTrace(err);
  });

  it('plain logs: steps see NO_COLOR=1 and FORCE_COLOR=0, and escape codes are stripped', async () => {
    const dir = workspace(`name: x\nsteps:\n  a:\n    run: |\n      echo "no=$NO_COLOR force=$FORCE_COLOR"\n      printf '\\033[31mred\\033[0m\\n'\n`);
    const { code, out } = await cli(['run', '--reporter', 'plain'], dir);
    expect(code).toBe(0);
    expect(out).toContain('[a] no=1 force=0');
    expect(out).toContain('[a] red\n');
    expect(out).not.toContain('\u001b');
  });

  it('a colour setting of the user stays', async () => {
    const dir = workspace('name: x\nsteps:\n  a: { run: \'echo "force=$FORCE_COLOR"\' }\n');
    const { out } = await cli(['run', '--reporter', 'github'], dir, { FORCE_COLOR: '1' });
    expect(out).toContain('force=1');
  });

  it('a declared output that was never written fails the step that reads it, by name', async () => {
    const dir = workspace('name: x\nsteps:\n  a: { run: "true", outputs: [version] }\n  b: { run: "echo v=${{ steps.a.outputs.version }}", needs: [a] }\n');
    const { code, out } = await cli(['run', '--reporter', 'plain'], dir);
    expect(code).toBe(1);
    expect(out).toMatch(/\[b\] \S+ failure in \d+ms: could not resolve an expression: steps.a.outputs.version was never set: step "a" \(success\) did not write "version" to \$SHIPGATE_OUTPUT \(hint: have "a" write it/);
    expect(out).not.toContain('v=\n');
  });
});

// Node's `mkdir(dir, { recursive: true })` never returns for a path the kernel refuses with ENOENT
// although its parent exists (anything under /proc): the sync form spun at 100% CPU out of reach of
// SIGTERM, the async one left the command waiting for ever. Every directory shipgate makes goes
// through makeDirectory now, whose walk is bounded by the path's depth.
describe.each(process.platform === 'linux' ? ['/proc/no-such-dir'] : [])('an output directory the kernel refuses (%s)', (refused) => {
  const yaml = 'name: p\nsteps:\n  a: { run: echo a }\n';

  it('run --report-dir: the run succeeds at once, with a warning that names the directory', async () => {
    const dir = workspace(yaml);
    const r = await binary(['run', '--reporter', 'plain', '--report-dir', `${refused}/report`], dir);
    expect([r.code, r.signal]).toEqual([0, null]);
    expect(r.ms).toBeLessThan(4000); // not ended by the SIGTERM sent at 5 s
    expect(r.err).toMatch(/^shipgate: warning: could not write the run report \(ENOENT: \/proc\/no-such-dir\) \[report\.write\]$/m);
  });

  it('export -o and report -o: exit 2 at once, one line with the path, no stack trace', async () => {
    const dir = workspace(yaml);
    const exported = await binary(['export', 'github', '-o', `${refused}/ci.yml`, '--branch', 'main', '--source-dir', '.'], dir);
    expect([exported.code, exported.signal]).toEqual([2, null]);
    expect(exported.err).toBe(`shipgate: cannot write ${refused}/ci.yml (ENOENT) [output.unwritable]\n  hint: choose a file in a directory you may write to\n`);
    expect((await binary(['run', '--reporter', 'plain'], dir)).code).toBe(0);
    const merged = await binary(['report', '.shipgate', '-o', refused], dir);
    expect([merged.code, merged.signal, merged.err]).toEqual([2, null, `shipgate: cannot write ${refused}/report.html (ENOENT) [output.unwritable]\n  hint: choose a file in a directory you may write to\n`]);
    expect(Math.max(exported.ms, merged.ms)).toBeLessThan(4000);
  });

  it('the code cache of the bundled command goes to the temp dir instead of a home there', async () => {
    const dir = workspace(yaml);
    const bundled = path.resolve(import.meta.dirname, '../../bin/shipgate.js');
    const started = performance.now();
    const out = execFileSync(process.execPath, [bundled, 'validate'], { cwd: dir, env: { ...process.env, HOME: refused, XDG_CACHE_HOME: '', SHIPGATE_CACHE_DIR: '' }, encoding: 'utf8', timeout: 10_000 });
    expect(out).toBe('shipgate.yml: ok — 1 steps, 1 invocations, 1 levels\n');
    expect(performance.now() - started).toBeLessThan(5000);
  });
});
