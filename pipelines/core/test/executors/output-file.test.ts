import { describe, expect, it } from '@jest/globals';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { newOutputFile, parseOutputFile, takeOutputFile } from '../../src/executors/output-file.js';

describe('parseOutputFile', () => {
  it.each([
    ['version=1.2.3\n', { version: '1.2.3' }],
    ['a=1\nb=x=y\n\n', { a: '1', b: 'x=y' }],
    ['notes<<EOF\nline one\nline two\nEOF\nafter=yes\n', { notes: 'line one\nline two', after: 'yes' }],
  ])('%j', (text, expected) => {
    expect(parseOutputFile(text)).toEqual(expected);
  });

  it('names the line that is not name=value, and an unclosed block', () => {
    expect(() => parseOutputFile('ok=1\njust words\n')).toThrow(/line 2 is not name=value/);
    expect(() => parseOutputFile('x<<END\nnever closed\n')).toThrow(/never closed by a line "END"/);
  });
});

describe('the $SHIPGATE_OUTPUT file', () => {
  it('is a fresh path in one private directory per process', () => {
    const [a, b] = [newOutputFile(), newOutputFile()];
    expect(a).not.toBe(b);
    expect(path.dirname(a)).toBe(path.dirname(b));
    expect(existsSync(a)).toBe(false);
  });

  it('reads as empty when the step wrote no output', () => {
    expect(takeOutputFile(newOutputFile())).toBe('');
  });

  it('is read once and then removed', async () => {
    const file = newOutputFile();
    writeFileSync(file, 'version=1.2.3\n');
    expect(takeOutputFile(file)).toBe('version=1.2.3\n');
    for (let i = 0; i < 50 && existsSync(file); i += 1) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(existsSync(file)).toBe(false);
  });
});
