// Lint and type-check are part of the test suite, so CI's one "N passed, N failed" line covers them.
import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '../..');

function run(command: string, args: string[], cwd = root): { code: number | null; output: string } {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
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

  // the layers of ARCHITECTURE.md: no cycle, every import between packages points down
  // every pipelines package (a new one is checked without being listed), the harness and the doors
  const packages = readdirSync(path.join(root, 'pipelines')).filter((name) => existsSync(path.join(root, 'pipelines', name, 'src'))).map((name) => `pipelines/${name}/src`);
  const sources = [...packages, 'test-harness/src', 'bolt-app/src', 'actions/src'];
  const depcruise = (cwd: string, config: string, paths: string[]) => run(process.execPath, [path.join(root, 'node_modules/dependency-cruiser/bin/dependency-cruiser.mjs'), ...paths, '--config', config, '--output-type', 'err'], cwd);

  it('has no import cycle and no import that points up a layer (dependency-cruiser)', () => {
    expect(packages).toEqual(expect.arrayContaining(['pipelines/protocol/src', 'pipelines/core/src', 'pipelines/cli/src', 'pipelines/verify/src']));
    const { code, output } = depcruise(root, '.dependency-cruiser.cjs', sources);
    expect(output).toMatch(/no dependency violations found \((\d{3,}) modules/);
    expect(code).toBe(0);
  }, 120_000);

  it('the layer check fails on a cycle and on core importing a step package', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'shipgate-layers-'));
    try {
      const file = (rel: string, text: string) => {
        mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
        writeFileSync(path.join(dir, rel), text);
      };
      file('tsconfig.tests.json', '{ "compilerOptions": { "module": "nodenext", "moduleResolution": "nodenext" } }');
      file('pipelines/core/src/plan.ts', "import { deploy } from '../../aws/src/deploy.js';\nexport const plan = () => deploy;\n");
      file('pipelines/aws/src/deploy.ts', "import { plan } from '../../core/src/plan.js';\nexport const deploy = () => plan;\n");
      file('pipelines/protocol/src/errors.ts', 'export const code = 1;\n');
      const { code, output } = depcruise(dir, path.join(root, '.dependency-cruiser.cjs'), ['pipelines']);
      expect(output).toMatch(/no-circular: pipelines\/(core\/src\/plan|aws\/src\/deploy)\.ts/);
      expect(output).toContain('core-imports-only-protocol: pipelines/core/src/plan.ts → pipelines/aws/src/deploy.ts');
      expect(code).not.toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('the size rule fails a source function over 80 lines and a source file over 400, not a test', () => {
    const lint = (file: string, text: string) => {
      const result = spawnSync(process.execPath, ['node_modules/eslint/bin/eslint.js', '--stdin', '--stdin-filename', file, '-f', 'json'], { cwd: root, input: text, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
      return (JSON.parse(result.stdout) as Array<{ messages: Array<{ ruleId: string }> }>)[0]!.messages.map((m) => m.ruleId);
    };
    const body = (n: number) => Array.from({ length: n }, (_, i) => `  total += ${i};`).join('\n');
    const longFunction = `export function long(): number {\n  let total = 0;\n${body(79)}\n  return total;\n}\n`;
    expect(lint('pipelines/core/src/probe.ts', longFunction)).toEqual(['max-lines-per-function']);
    expect(lint('pipelines/core/src/probe.ts', longFunction.replace(body(79), body(76)))).toEqual([]);
    const longFile = Array.from({ length: 401 }, (_, i) => `export const c${i} = ${i};`).join('\n');
    expect(lint('bolt-app/src/probe.ts', longFile)).toEqual(['max-lines']);
    expect(lint('bolt-app/test/probe.test.ts', longFile + '\n' + longFunction)).toEqual([]);
  }, 120_000);
});
