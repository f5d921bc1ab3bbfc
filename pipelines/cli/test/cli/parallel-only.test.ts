// Runs of different steps side by side in one workspace (what the Jenkins library's parallel
// branches do: `shipgate run --only a` beside `--only b`) keep every step's outputs and each their
// own report.
import { afterEach, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { lastSuccessfulOutputs, readRecordedOutputs, recordStepOutputs } from '../../../core/src/cache/keys.js';
import { cli } from '../../../test/helpers.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sg-par-'));
  dirs.push(dir);
  return dir;
}

describe('recorded outputs, one file per step', () => {
  it('two runs recording at the same moment keep both steps; the older single file is read under them', async () => {
    const state = path.join(tempDir(), '.shipgate');
    mkdirSync(state, { recursive: true });
    writeFileSync(path.join(state, 'outputs.json'), JSON.stringify({ a: { at: 'then', outputs: { v: 'old' } }, legacy: { at: 'then', outputs: { x: '1' } } }));
    await Promise.all([recordStepOutputs(state, { a: { v: 'A' } }), recordStepOutputs(state, { b: { v: 'B' } })]);
    const all = await readRecordedOutputs(state);
    expect(Object.fromEntries(Object.entries(all).map(([k, v]) => [k, v.outputs]))).toEqual({ a: { v: 'A' }, b: { v: 'B' }, legacy: { x: '1' } });
    expect(await lastSuccessfulOutputs(state, 'legacy')).toEqual({ x: '1' });
    expect(await lastSuccessfulOutputs(state, 'a')).toEqual({ v: 'A' });
    expect(await lastSuccessfulOutputs(state, 'none')).toBeUndefined();
    expect(JSON.parse(readFileSync(path.join(state, 'outputs', 'b.json'), 'utf8'))).toMatchObject({ outputs: { v: 'B' } });
  });
});

describe('shipgate run --only side by side, --report-dir', () => {
  const yaml = [
    'name: side',
    'steps:',
    '  a: { run: \'sleep 0.3; echo "v=from-a" >> "$SHIPGATE_OUTPUT"\' }',
    '  b: { run: \'sleep 0.3; echo "v=from-b" >> "$SHIPGATE_OUTPUT"\' }',
    '  c: { needs: [a, b], run: \'echo "${{ steps.a.outputs.v }} ${{ steps.b.outputs.v }}" > got\' }',
  ].join('\n');

  it('keeps both steps outputs and both reports, then a dependent reads both', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'shipgate.yml'), yaml);
    const [ra, rb] = await Promise.all([
      cli(['run', '--only', 'a', '--report-dir', 'reports/a'], dir),
      cli(['run', '--only', 'b', '--report-dir', path.join(dir, 'reports', 'b')], dir),
    ]);
    expect([ra.code, rb.code]).toEqual([0, 0]);
    expect(ra.err).toContain(`report: ${path.join('reports', 'a', 'report.json')}, ${path.join('reports', 'a', 'junit.xml')}`);
    for (const step of ['a', 'b']) {
      const report = JSON.parse(readFileSync(path.join(dir, 'reports', step, 'report.json'), 'utf8'));
      expect(report.invocations.map((i: { id: string }) => i.id)).toEqual([step]);
      expect(report.invocations[0].outputs).toEqual({ v: `from-${step}` });
      const junit = readFileSync(path.join(dir, 'reports', step, 'junit.xml'), 'utf8');
      expect(junit).toContain(`<testcase classname="side.${step}" name="${step}"`);
      expect(junit).toContain('tests="1" failures="0"');
    }
    // --report-dir leaves the shared report alone; each run still keeps its copy under runs/
    expect(existsSync(path.join(dir, '.shipgate', 'report.json'))).toBe(false);
    const c = await cli(['run', '--only', 'c'], dir);
    expect(c.code).toBe(0);
    expect(readFileSync(path.join(dir, 'got'), 'utf8').trim()).toBe('from-a from-b');
  });

  it('the same with two real processes of the built binary started together', async () => {
    const bin = path.resolve(import.meta.dirname, '../../dist/cli/main.js');
    expect(existsSync(bin)).toBe(true); // scripts/test.sh builds before the tests
    const dir = tempDir();
    writeFileSync(path.join(dir, 'shipgate.yml'), yaml);
    const runOnly = (step: string) =>
      new Promise<{ code: number | null; out: string }>((resolve) => {
        const child = spawn(process.execPath, [bin, 'run', '--only', step, '--report-dir', `reports/${step}`, '--reporter', 'plain'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        child.stdout.on('data', (c: Buffer) => (out += c.toString()));
        child.stderr.on('data', (c: Buffer) => (out += c.toString()));
        child.on('close', (code) => resolve({ code, out }));
      });
    const [a, b] = await Promise.all([runOnly('a'), runOnly('b')]);
    expect([a.code, b.code]).toEqual([0, 0]);
    for (const step of ['a', 'b']) {
      expect(JSON.parse(readFileSync(path.join(dir, '.shipgate', 'outputs', `${step}.json`), 'utf8')).outputs).toEqual({ v: `from-${step}` });
      expect(JSON.parse(readFileSync(path.join(dir, 'reports', step, 'report.json'), 'utf8')).invocations.map((i: { id: string }) => i.id)).toEqual([step]);
    }
    expect(`${a.out}${b.out}`).not.toMatch(/EPIPE|Unhandled 'error' event/);
    const c = await cli(['run', '--only', 'c'], dir);
    expect(c.code).toBe(0);
    expect(readFileSync(path.join(dir, 'got'), 'utf8').trim()).toBe('from-a from-b');
  });
});
