// `shipgate verify` in-process: inputs from a YAML file with flags on top, and the errors a person
// gets for a wrong file, flag or input — one line with a code, exit 2, before any evaluation.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { verifyCommandInputs } from '../../src/cli/commands/verify.js';
import { cli } from '../../../test/helpers.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'sg-verify-cmd-'));
  writeFileSync(path.join(dir, 'shipgate.yml'), 'name: x\nsteps:\n  a: { run: "true" }\n');
  writeFileSync(path.join(dir, 'verify.yml'), 'prometheus: http://127.0.0.1:9\ncount: 4\nchecks:\n  - { name: e, query: up, max: 1 }\n');
  writeFileSync(path.join(dir, 'list.yml'), '- a\n- b\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('shipgate verify', () => {
  it('takes the inputs file and lays the flags over it', async () => {
    expect(await verifyCommandInputs({ inputs: 'verify.yml', count: '2', release: '1.4.2', environment: 'prod', allowInconclusive: true }, dir)).toEqual({
      prometheus: 'http://127.0.0.1:9',
      count: 2,
      checks: [{ name: 'e', query: 'up', max: 1 }],
      version: '1.4.2',
      environment: 'prod',
      'allow-inconclusive': true,
    });
  });

  it.each([
    [['verify', '--inputs', 'nope.yml'], 'shipgate: --inputs'],
    [['verify', '--inputs', 'list.yml'], "expected a mapping of the verify step's inputs"],
    [['verify', '--inputs', 'verify.yml', '--count', 'two'], '--count two: expected a whole number'],
  ])('%j is refused with a message, not a stack trace', async (args, message) => {
    const { code, err } = await cli(args, dir);
    expect(code).toBe(2);
    expect(err).toContain(message);
    expect(err).not.toMatch(/\n\s+at /);
  });

  it('an input the step refuses (a malformed query) exits 2 before any evaluation', async () => {
    writeFileSync(path.join(dir, 'bad.yml'), 'prometheus: http://127.0.0.1:9\nchecks:\n  - { name: e, query: "sum(rate(x[1m])", max: 1 }\n');
    const { code, err, out } = await cli(['verify', '--inputs', 'bad.yml', '--json'], dir);
    expect(code).toBe(2);
    expect(JSON.parse(out)).toMatchObject({ verdict: null, evaluations: 0, error: { message: expect.stringContaining('PromQL syntax error at column 16') } });
    expect(err).not.toContain('evaluation 1');
  });
});
