import { describe, expect, it } from '@jest/globals';
import { LineCounter, parseDocument } from 'yaml';
import { configLimits, ExitCode, ShipgateError } from '@shipgate/protocol';
import { describeValue } from '../../src/config/checks/schema-issues.js';
import { Problems } from '../../src/config/problems.js';

/** A collector over `text`, whose offsets map to its lines. */
function collector(text: string): Problems {
  const lineCounter = new LineCounter();
  parseDocument(text, { lineCounter });
  return new Problems('ci/shipgate.yml', lineCounter);
}

function thrown(problems: Problems): ShipgateError {
  try {
    problems.throwIfAny();
  } catch (error) {
    if (error instanceof ShipgateError) return error;
    throw error;
  }
  throw new Error('throwIfAny did not throw');
}

const lines = (error: ShipgateError) => [error, ...error.related].map((e) => `${e.location?.file}:${e.location?.line}:${e.location?.column} ${e.code} ${e.message}`);

describe('Problems', () => {
  it('throws nothing when nothing was found', () => {
    expect(() => collector('a: 1\n').throwIfAny()).not.toThrow();
  });

  it('throws one error holding every problem, sorted by position; equal positions keep the order they were found in', () => {
    const problems = collector('name: x\nsteps:\n  a: {}\n');
    problems.add('config.second', 'second at line 3', 17);
    problems.add('config.first', 'first at line 1', 0, 'a hint');
    problems.add('config.third', () => 'third, also at line 3', 17);
    const error = thrown(problems);
    expect(lines(error)).toEqual(['ci/shipgate.yml:1:1 config.first first at line 1', 'ci/shipgate.yml:3:3 config.second second at line 3', 'ci/shipgate.yml:3:3 config.third third, also at line 3']);
    expect(error.hint).toBe('a hint');
    expect(error.exitCode).toBe(ExitCode.usage);
  });

  it(`keeps ${configLimits.maxProblems} problems and counts the rest in a last one, at the next problem`, () => {
    const text = Array.from({ length: 60 }, (_, i) => `k${i}: v`).join('\n');
    const problems = collector(text);
    for (let i = 59; i >= 0; i -= 1) problems.add('config.x', `problem ${i}`, text.indexOf(`k${i}:`));
    const shown = lines(thrown(problems));
    expect(shown).toHaveLength(configLimits.maxProblems + 1);
    expect(shown[0]).toBe('ci/shipgate.yml:1:1 config.x problem 0');
    expect(shown.at(-1)).toBe(`ci/shipgate.yml:51:1 config.more 10 more problems not shown, the next one here`);
  });

  it('never calls the message function of a problem that is not shown', () => {
    const problems = collector('a: 1\n');
    let called = 0;
    for (let i = 0; i < configLimits.maxProblems + 5; i += 1) problems.add('config.x', () => `lazy ${(called += 1)}`, 0);
    thrown(problems);
    expect(called).toBe(configLimits.maxProblems);
  });

  it('makes messages and hints printable', () => {
    const problems = collector('a: 1\n');
    const error = problems.problem('config.x', 'bad \x1b[31m name', 0, 'hint\nsecond line');
    expect(error.message).not.toContain('\x1b');
    expect(error.message).toContain('\\x1b');
    expect(error.hint).not.toContain('\n');
  });
});

describe('describeValue', () => {
  it.each<[unknown, string]>([
    [undefined, 'nothing'],
    [null, 'null'],
    [[1], 'a list'],
    [{ a: 1 }, 'a mapping'],
    ['two', '"two"'],
    [2, '2'],
    [true, 'true'],
    ['x'.repeat(60), JSON.stringify('x'.repeat(60))],
    ['y'.repeat(61), `${JSON.stringify('y'.repeat(40))}… (61 characters)`],
  ])('%j → %s', (value, text) => {
    expect(describeValue(value)).toBe(text);
  });
});
