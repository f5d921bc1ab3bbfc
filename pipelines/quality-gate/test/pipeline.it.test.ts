// The gate inside a real `shipgate run`: a unit step writes an lcov file and Jest results, the gate
// step reads them, and the Danger rule that posts step summaries finds the gate's table in the run
// report (.shipgate/report.json).
import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { qualityGateComment, type DangerReporter } from '../../danger/src/index.js';
import { cli } from '../../test/helpers.js';

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function pipeline(min: number): string {
  dir = mkdtempSync(path.join(os.tmpdir(), 'shipgate-gate-run-'));
  writeFileSync(
    path.join(dir, 'shipgate.yml'),
    [
      'name: gate-demo',
      'steps:',
      '  unit:',
      '    run: |',
      '      mkdir -p coverage',
      `      printf 'SF:src/a.ts\\nDA:1,1\\nDA:2,1\\nDA:3,1\\nDA:4,0\\nend_of_record\\n' > coverage/lcov.info`,
      `      echo '{"numFailedTests":0,"numTotalTests":3,"numRuntimeErrorTestSuites":0,"success":true,"testResults":[]}' > coverage/jest.json`,
      '  gate:',
      '    needs: [unit]',
      '    uses: quality-gate',
      '    with:',
      '      local:',
      `        coverage: { lcov: coverage/lcov.info, min: ${min} }`,
      '        tests: { report: coverage/jest.json }',
      '  after:',
      '    needs: [gate]',
      '    run: echo "status=${{ steps.gate.outputs.status }}" >> "$SHIPGATE_OUTPUT"',
      '    outputs: [status]',
      '',
    ].join('\n'),
  );
  return dir;
}

function danger(cwd: string): string[] {
  const posted: string[] = [];
  const reporter: DangerReporter = { fail: () => {}, warn: () => {}, message: () => {}, markdown: (m) => posted.push(m) };
  qualityGateComment(reporter, { cwd });
  return posted;
}

describe('quality-gate in a pipeline', () => {
  it('passes on reports an earlier step wrote; later steps read its status output; Danger posts the table', async () => {
    const cwd = pipeline(70);
    const r = await cli(['run', '--reporter', 'plain'], cwd);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/\[gate\] +coverage\s+75\s+<\s+70\s+OK/);
    const report = JSON.parse(readFileSync(path.join(cwd, '.shipgate/report.json'), 'utf8')) as { invocations: Array<{ id: string; outputs: Record<string, string> }> };
    expect(report.invocations.find((i) => i.id === 'after')!.outputs.status).toBe('OK');
    const [comment] = danger(cwd);
    expect(comment).toContain('#### gate');
    expect(comment).toContain('### Quality gate: ✅ OK');
    expect(comment).toContain('| coverage | 75 | < | 70 | ✅ OK |');
  });

  it('fails the run (exit 1) when the gate fails, and the table still reaches the report', async () => {
    const cwd = pipeline(80);
    const r = await cli(['run', '--reporter', 'plain'], cwd);
    expect(r.code).toBe(1);
    expect(`${r.out}${r.err}`).toMatch(/quality gate failed: coverage/);
    expect(danger(cwd)[0]).toContain('| coverage | 75 | < | 80 | ❌ ERROR |');
  });
});
