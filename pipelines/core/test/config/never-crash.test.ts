// Issue 14 §4: whatever shipgate.yml holds, validation ends in well under a second with exit 2
// and a bounded list of `file:line:col: message [code]` problems — never a stack trace, a hang or
// megabytes of output. Each case is one of the reproductions found by mutating real configs.
import { describe, expect, it } from '@jest/globals';
import { defaultRegistry } from '@shipgate/cli';
import { ShipgateError } from '@shipgate/protocol';
import { parsePipeline } from '../../src/config/index.js';
import { planPipeline } from '../../src/plan/plan.js';
import { configLimits } from '../../../protocol/src/limits.js';

const registry = defaultRegistry();
/** A problem line: `file:line:col: message [code]`; hints follow on indented `  hint:` lines. */
export const problemLine = /^shipgate\.yml:\d+:\d+: \S.* \[[a-z][a-z-]*(\.[a-z][a-z-]*)+\]$/;
const hintPrefix = '  hint: ';
const hintLine = /^ {2}hint: \S/;

/** Validates in process; `ms` is CPU time, which other work on a shared machine does not inflate as it does wall time. */
function validate(yaml: string) {
  const started = process.cpuUsage();
  let error: unknown;
  try {
    planPipeline(parsePipeline(yaml, 'shipgate.yml', { registry }));
  } catch (e) {
    error = e;
  }
  const used = process.cpuUsage(started);
  return { error, ms: (used.user + used.system) / 1000 };
}

/**
 * Thousands of steps: most of the time is the YAML parse of a file of 200 KB or more (see
 * bench/validate.js); the bound is loose so a busy shared CI machine does not fail it.
 */
const largeFileCpuMs = 3000;

/** Rejected as a user mistake: exit 2, every line well formed, the whole report bounded, fast. */
function expectRejected(yaml: string, code: string, message: RegExp, cpuLimitMs = 1000): ShipgateError {
  const { error, ms } = validate(yaml);
  expect(error).toBeInstanceOf(ShipgateError);
  const e = error as ShipgateError;
  const all = [e, ...e.related];
  expect(all.map((p) => p.code)).toContain(code);
  expect(all.map((p) => p.message).join('\n')).toMatch(message);
  expect(e.exitCode).toBe(2);
  const text = e.format();
  for (const line of text.split('\n')) expect(line).toMatch(line.startsWith(hintPrefix) ? hintLine : problemLine);
  expect(text.length).toBeLessThan(20_000);
  expect(all.length).toBeLessThanOrEqual(configLimits.maxProblems + 1);
  for (const p of all) expect(p.hint?.length ?? 0).toBeLessThanOrEqual(configLimits.maxMessageChars);
  expect(ms).toBeLessThan(cpuLimitMs);
  return e;
}

const steps = (n: number, body: (i: number) => string) => `name: x\nsteps:\n${Array.from({ length: n }, (_, i) => `  s${i}: ${body(i)}`).join('\n')}\n`;

describe('YAML that used to crash or be silently misread', () => {
  it.each([
    ['a file holding only *a', '*a\n', 'config.yaml', /\*a names no anchor/],
    ['an alias to the node that holds it', 'name: x\nsteps: &s\n  a: { run: echo, env: *s }\n', 'config.yaml', /\*s sits inside the value it names/],
    ['an alias used as a key', 'name: &n x\nsteps:\n  a: { run: echo }\n  *n : { run: echo }\n', 'config.alias-key', /an alias \(\*n\) cannot be a key/],
    ['a __proto__ step', 'name: x\nsteps:\n  __proto__: { run: echo }\n  a: { run: echo }\n', 'config.reserved-key', /"__proto__" cannot be a key/],
    ['a mapping as a key', 'name: x\nsteps:\n  ? { a: 1 }\n  : { run: echo }\n', 'config.type', /a key must be plain text/],
    ['lists nested 10,000 deep', `name: x\nsteps: ${'['.repeat(10_000)}${']'.repeat(10_000)}\n`, 'config.too-deep', /nested too deep|nested more than 64/],
    ['mappings nested 100 deep', `name: x\nsteps:\n  a:\n    run: echo\n    with: ${'{ a: '.repeat(100)}1${' }'.repeat(100)}\n`, 'config.too-deep', /nested more than 64 levels/],
    ['an alias bomb', `name: x\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n${Array.from({ length: 9 }, (_, i) => `a${i + 1}: &a${i + 1} [${Array(10).fill(`*a${i}`).join(', ')}]`).join('\n')}\nsteps: { a: { run: echo } }\n`, 'config.too-large', /expands to over a billion values once its aliases are resolved \(at most 1,000,000\)/],
  ])('%s', (_name, yaml, code, message) => {
    expectRejected(yaml, code, message);
  });

  it('names a duplicate key and both of its lines', () => {
    const e = expectRejected('name: x\nsteps:\n  build: { run: echo }\n  test: { run: echo }\n  build: { run: echo 2 }\n', 'config.duplicate-key', /duplicate key "build" on line 5: it is already set on line 3/);
    expect(e.location).toMatchObject({ line: 5, column: 3 });
  });

  it('accepts one anchor used 150 times (a plausible pipeline)', () => {
    const yaml = `env: &env { NODE_ENV: test, CI: "true" }\n` + steps(150, () => '{ run: echo, env: *env }');
    const { error } = validate(yaml);
    expect(error).toBeUndefined();
  });

  it('escapes binary input instead of echoing it', () => {
    const e = expectRejected('name: x\nsteps:\n  a: { run: echo, "nee\\0ds\\e[31m\\x7f": [b] }\n', 'config.unknown-key', /unknown key "nee\\x00ds\\x1b\[31m\\x7f"/);
    expect([...e.format()].some((c) => c.charCodeAt(0) < 0x20 && c !== '\n')).toBe(false);
  });
});

describe('types in plain words', () => {
  it.each([
    ['name: []', 'name: []\nsteps: { a: { run: echo } }\n', /^name: must be a name, such as orders-service \(got a list\)$/],
    ['retries: two', 'name: x\nsteps: { a: { run: echo, retries: two } }\n', /^steps.a.retries: must be a whole number from 0 to 10, such as 2 \(got "two"\)$/],
    ['retries: 1.5', 'name: x\nsteps: { a: { run: echo, retries: 1.5 } }\n', /^steps.a.retries: must be a whole number from 0 to 10, such as 2 \(got 1.5\)$/],
    ['needs as a mapping', 'name: x\nsteps: { b: { run: echo }, a: { run: echo, needs: { b: true } } }\n', /^steps.a.needs: must be a step id or a list of step ids, such as \[build, lint\] \(got a mapping\)$/],
    ['cache.inputs: []', 'name: x\nsteps: { a: { run: echo, cache: { inputs: [] } } }\n', /^steps.a.cache.inputs: must be a non-empty list of globs/],
    ['steps: []', 'name: x\nsteps: []\n', /^steps: must be a mapping of step ids to steps/],
    ['a bad step id', 'name: x\nsteps: { "a b": { run: echo } }\n', /^steps: "a b" is not a valid name: step ids are letters, digits, _ and -/],
  ])('%s', (_name, yaml, message) => {
    const e = expectRejected(yaml, 'config.type', /./);
    const messages = [e, ...e.related].map((p) => p.message);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(message);
    expect(messages[0]).not.toMatch(/Too small|Invalid input|expected array|>=/);
  });
});

describe('graphs of thousands of steps', () => {
  it('a 4,750-step needs cycle is one error at the need that closes it', () => {
    const e = expectRejected(steps(4750, (i) => `{ run: echo, needs: [s${(i + 1) % 4750}] }`), 'config.cycle', /step "s4749" needs "s0", which closes a cycle: s0 → s1 → s2 → s3 → … \(4,743 more\) → s4747 → s4748 → s4749 → s0/, largeFileCpuMs);
    expect(e.related).toHaveLength(0);
    expect(e.location).toMatchObject({ line: 4752, column: 31 });
  });

  it('2,000 steps of dense cyclic needs are one error', () => {
    const e = expectRejected(steps(2000, (i) => `{ run: echo, needs: [${Array.from({ length: 20 }, (_, k) => `s${(i + k * 97 + 1) % 2000}`).join(', ')}] }`), 'config.cycle', /closes a cycle/, largeFileCpuMs);
    expect(e.related).toHaveLength(0);
  });

  it('a 700-step complete graph is one bounded error', () => {
    // written with an alias, as the file would otherwise pass the size limit: 490,000 needs
    const ids = Array.from({ length: 700 }, (_, i) => `s${i}`);
    const yaml = `name: x\nsteps:\n  s0: { run: echo, needs: &all [${ids.join(', ')}] }\n${ids.slice(1).map((id) => `  ${id}: { run: echo, needs: *all }`).join('\n')}\n`;
    const e = expectRejected(yaml, 'config.cycle', /step "s0" needs itself/, largeFileCpuMs);
    expect(e.related).toHaveLength(0);
  });

  it('a file over 1 MiB is refused before it is parsed', () => {
    const { error, ms } = validate(`name: x\nsteps:\n  a: { run: "${'x'.repeat(1024 * 1024)}" }\n`);
    expect(error).toBeUndefined(); // parsePipeline takes text; the size bound is on the file (see the CLI tests)
    expect(ms).toBeLessThan(1000);
  });

  it('5,000 unknown needs print a bounded report with short hints', () => {
    const e = expectRejected(steps(5000, (i) => `{ run: echo, needs: [missing${i}] }`), 'config.unknown-need', /step "s0" needs "missing0", which is not a step/, largeFileCpuMs);
    expect(e.related).toHaveLength(configLimits.maxProblems);
    expect(e.related.at(-1)!.message).toBe('4,950 more problems not shown, the next one here');
    expect(e.hint).toBe('steps: s0, s1, s2, s3, s4, s5, s6, s7, … and 4,992 more');
  });

  it('a 20,000-step chain validates in linear time', () => {
    const chain = (n: number) => steps(n, (i) => (i === 0 ? '{ run: echo }' : `{ run: "echo \${{ steps.s${i - 1}.outcome }}", needs: s${i - 1} }`));
    validate(chain(2000)); // warm up
    const small = validate(chain(5000));
    const large = validate(chain(20_000));
    expect(large.error).toBeUndefined();
    // 4× the steps costs about 4× the time (it was quadratic: 40 s). Most of it is the YAML parse
    // itself; bench/validate.js prints the figures. The bound is loose for a busy CI machine.
    expect(large.ms / small.ms).toBeLessThan(8);
    expect(large.ms).toBeLessThan(4000);
  });
});

describe('matrices', () => {
  it('refuses 40 axes of [0, 1] before expanding them', () => {
    const axes = Array.from({ length: 40 }, (_, i) => `a${i}: [0, 1]`).join(', ');
    expectRejected(`name: x\nsteps:\n  a:\n    run: echo\n    matrix: { ${axes} }\n`, 'config.matrix', /the matrix is too large: its axes make more than 256 combinations/);
  });

  it('refuses a value listed twice in an axis (two invocations with one id)', () => {
    const e = expectRejected('name: x\nsteps:\n  a:\n    run: echo\n    matrix: { x: [a, a] }\n', 'config.matrix', /matrix axis x lists "a" twice \(items 1 and 2\)/);
    expect(e.location).toMatchObject({ line: 5, column: 22 });
  });

  it('refuses an include that repeats a combination', () => {
    expectRejected('name: x\nsteps:\n  a:\n    run: echo\n    matrix: { include: [{ x: a }, { x: a }] }\n', 'config.matrix', /the matrix makes a\[x=a\] twice/);
  });

  it('accepts exactly 256 combinations', () => {
    expect(validate('name: x\nsteps:\n  a:\n    run: echo\n    matrix: { x: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15], y: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15] }\n').error).toBeUndefined();
  });
});

describe('durations', () => {
  it.each(['1194h', '597h', '1193h', '169h', '10081m'])('timeout: %s is refused at validate (timers end at 596h)', (timeout) => {
    expectRejected(`name: x\nsteps: { a: { run: echo, timeout: ${timeout} } }\n`, 'config.duration', /is longer than the 168h \(7 days\) a duration may be/);
  });

  it('accepts 168h', () => {
    expect(validate('name: x\nsteps: { a: { run: echo, timeout: 168h } }\n').error).toBeUndefined();
  });
});

describe('expressions that used to pass validate and fail (or be empty) at run time', () => {
  it.each([
    ['pipeline env: ${{ }}', 'name: x\nenv: { A: "${{ }}" }\nsteps: { a: { run: echo } }\n', /env.A: empty expression/],
    ['pipeline env reading a step', 'name: x\nenv: { A: "${{ steps.a.outputs.v }}" }\nsteps: { a: { run: echo, outputs: [v] } }\n', /the pipeline's env cannot read steps.a.outputs.v/],
    ['constructor()', 'name: x\nsteps: { a: { run: "echo ${{ constructor() }}" } }\n', /unknown function constructor\(\)/],
    ["steps['b'].outputs.v", "name: x\nsteps:\n  b: { run: echo, outputs: [v] }\n  a: { run: \"echo ${{ steps['b'].outputs.v }}\", needs: [b] }\n", /index and \* syntax cannot be checked/],
    ['a misspelt output', 'name: x\nsteps:\n  a: { run: echo, outputs: [version] }\n  b: { run: "echo ${{ steps.a.outputs.versoin }}", needs: [a] }\n', /step "b" reads steps.a.outputs.versoin, but "a" declares no output "versoin" — did you mean "version"\?/],
    ['steps.a.output.version', 'name: x\nsteps:\n  a: { run: echo, outputs: [version] }\n  b: { run: "echo ${{ steps.a.output.version }}", needs: [a] }\n', /steps.a.output is not a property of a step — did you mean "outputs"\?/],
    ['steps.a.foo', 'name: x\nsteps:\n  a: { run: echo, outputs: [version] }\n  b: { run: "echo ${{ steps.a.foo }}", needs: [a] }\n', /steps.a.foo is not a property of a step/],
    ['a read without needs', 'name: x\nsteps:\n  a: { run: echo, outputs: [v] }\n  c: { run: echo }\n  b: { run: "echo ${{ steps.a.outputs.v }}", needs: [c] }\n', /step "b" reads steps.a, which does not run before it/],
    ['an output a registered step does not have', 'name: x\nsteps:\n  n: { uses: slack-notify, with: { channel: "#x", text: hi } }\n  b: { run: "echo ${{ steps.n.outputs.tss }}", needs: [n] }\n', /"n" declares no output "tss" — did you mean "ts"\?/],
    ['10,000 && in if:', `name: x\nsteps: { a: { run: echo, if: "${Array(10_001).fill('true').join(' && ')}" } }\n`, /too long: more than 1000 tokens/],
    ['1,400 nested ( in if:', `name: x\nsteps: { a: { run: echo, if: "${'('.repeat(1400)}true${')'.repeat(1400)}" } }\n`, /too long|nests deeper/],
    ['${{ followed by 10,000 !', `name: x\nsteps: { a: { run: "\${{ ${'!'.repeat(10_000)} }}" } }\n`, /too long|nests deeper/],
  ])('%s', (_name, yaml, message) => {
    expectRejected(yaml, 'config.expression', message);
  });

  it('reads through needs of needs, and outputs a registered step documents', () => {
    const spec = parsePipeline('name: x\nsteps:\n  a: { run: echo, outputs: [v] }\n  m: { run: echo, needs: [a] }\n  n: { uses: slack-notify, with: { channel: "#x", text: hi } }\n  b: { run: "echo ${{ steps.a.outputs.v }} ${{ steps.n.outputs.ts }}", needs: [m, n] }\n', 'shipgate.yml', { registry });
    expect(spec.steps).toHaveLength(4);
  });

  it('warns (once, at the step) when a step others read declares no outputs', () => {
    const warnings: ShipgateError[] = [];
    parsePipeline('name: x\nsteps:\n  a: { run: echo }\n  b: { run: "echo ${{ steps.a.outputs.v }} ${{ steps.a.outputs.w }}", needs: [a] }\n  c: { run: "echo ${{ steps.a.outputs.v }}", needs: [a] }\n', 'shipgate.yml', { registry, onWarning: (w) => warnings.push(w) });
    expect(warnings.map((w) => w.format())).toEqual([
      'shipgate.yml:3:3: step "a" declares no outputs, but other steps read steps.a.outputs.v, steps.a.outputs.w [config.undeclared-outputs]\n  hint: declare them: outputs: [v, w] — then validate checks every read',
    ]);
  });
});
