// Each pipelines package's public API is deliberate: what its src/index.ts exports is exactly the
// README's "## API" table, name for name, and every value in it exists at run time.
import { describe, expect, it } from '@jest/globals';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '../..');
// every package under pipelines/ (a new one is checked without being listed here)
const packages = readdirSync(path.join(root, 'pipelines')).filter((name) => existsSync(path.join(root, 'pipelines', name, 'src/index.ts')));

/** Names exported by an index made of `export { … } from` / `export type { … } from` lines. */
function indexExports(text: string): { values: string[]; types: string[] } {
  const values: string[] = [];
  const types: string[] = [];
  for (const m of text.matchAll(/export\s+(type\s+)?\{([^}]*)\}\s*from\s*'[^']+'/g)) {
    for (const raw of m[2]!.split(',').map((s) => s.trim()).filter(Boolean)) {
      const isType = Boolean(m[1]) || raw.startsWith('type ');
      const name = raw.replace(/^type\s+/, '').split(/\s+as\s+/).pop()!.trim();
      (isType ? types : values).push(name);
    }
  }
  return { values, types };
}

/** Rows of the README's "## API" table: name and kind. */
function readmeApi(text: string): Map<string, string> {
  const section = text.slice(text.indexOf('\n## API\n'));
  const rows = new Map<string, string>();
  for (const m of section.matchAll(/^\| `([^`]+)` \| (value|type) \|/gm)) rows.set(m[1]!, m[2]!);
  return rows;
}

describe('public API of each pipelines package', () => {
  it('reads the index and the table as written', () => {
    expect(indexExports("export { a, b as c } from './x.js';\nexport type { T } from './y.js';\nexport { type U, v } from './z.js';")).toEqual({ values: ['a', 'c', 'v'], types: ['T', 'U'] });
    expect([...readmeApi('# x\n\n## API\n\n| name | kind | what |\n| --- | --- | --- |\n| `a` | value | A. |\n| `T` | type | T. |\n').entries()]).toEqual([['a', 'value'], ['T', 'type']]);
  });

  it('finds every package', () => {
    expect(packages).toEqual(expect.arrayContaining(['protocol', 'core', 'aws', 'image', 'quality-gate', 'slack', 'verify', 'cli', 'danger']));
  });

  it.each(packages)('@shipgate/%s exports exactly what its README documents', async (name) => {
    const dir = path.join(root, 'pipelines', name);
    const { values, types } = indexExports(readFileSync(path.join(dir, 'src/index.ts'), 'utf8'));
    const documented = readmeApi(readFileSync(path.join(dir, 'README.md'), 'utf8'));
    expect(documented.size).toBeGreaterThan(0);
    const exported = new Map([...values.map((v) => [v, 'value'] as const), ...types.map((t) => [t, 'type'] as const)]);
    expect([...exported.entries()].sort()).toEqual([...documented.entries()].sort());
    const mod = (await import(`@shipgate/${name}`)) as Record<string, unknown>;
    for (const value of values) expect([value, mod[value] === undefined ? 'missing' : 'present']).toEqual([value, 'present']);
  });
});
