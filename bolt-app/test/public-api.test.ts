// The package's public API is a decision, written down twice: src/index.ts exports it, and the
// README's "As a library" table documents it. This keeps the two naming the same things.
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import * as api from '../src/index.js';

const root = new URL('../', import.meta.url);
const read = (file: string) => readFileSync(new URL(file, root), 'utf8');

/** Every name `src/index.ts` exports, values and types, from its `export { … } from` lines. */
function exportedNames(source: string): { values: string[]; types: string[] } {
  const values: string[] = [];
  const types: string[] = [];
  for (const m of source.matchAll(/^export (type )?\{([^}]*)\} from /gm)) {
    const names = m[2]!.split(',').map((n) => n.trim()).filter(Boolean);
    (m[1] ? types : values).push(...names);
  }
  return { values: values.sort(), types: types.sort() };
}

/** The names in the first column of the README's "As a library" table. */
function documentedNames(readme: string): string[] {
  const section = readme.slice(readme.indexOf('## As a library'), readme.indexOf('\n## ', readme.indexOf('## As a library') + 1));
  const rows = section.split('\n').filter((line) => line.startsWith('| `'));
  return rows.flatMap((row) => [...row.split('|')[1]!.matchAll(/`([A-Za-z]+)/g)].map((m) => m[1]!)).sort();
}

describe('the public API', () => {
  const { values, types } = exportedNames(read('src/index.ts'));

  it('exports, at run time, exactly the values index.ts names', () => {
    expect(Object.keys(api).sort()).toEqual(values);
  });

  it('is what the README documents, name for name', () => {
    expect(documentedNames(read('README.md'))).toEqual([...values, ...types].sort());
  });

  it('gives every export a one-line doc comment', () => {
    const lines = read('src/index.ts').split('\n');
    const undocumented = lines.filter((line, i) => line.startsWith('export ') && !/^\/\*\*.*\*\/$/.test(lines[i - 1] ?? ''));
    expect(undocumented).toEqual([]);
  });
});
