// Lint and type-check are part of the test suite, so CI's one "N passed, N failed" line covers them.
import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '../..');

function run(command: string, args: string[]): { code: number | null; output: string } {
  const result = spawnSync(command, args, { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { code: result.status, output: `${result.stdout}\n${result.stderr}`.trim() };
}

describe('workspace static checks', () => {
  it('type-checks every source, test and bench file (tsc, strict)', () => {
    const { code, output } = run(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.tests.json', '--noEmit']);
    expect(output).toBe('');
    expect(code).toBe(0);
  }, 240_000);

  it('passes ESLint', () => {
    const { code, output } = run(process.execPath, ['node_modules/eslint/bin/eslint.js', '.', '--max-warnings=0']);
    expect(output).toBe('');
    expect(code).toBe(0);
  }, 240_000);
});
