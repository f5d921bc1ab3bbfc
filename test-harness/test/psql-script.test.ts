// Reading scripts the psql way: COPY … FROM stdin blocks, pg_dump's meta-commands, offsets kept.
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import type { ShipgateError } from '@shipgate/protocol';
import { parsePsqlScript, type ScriptPart } from '../src/sql/psql-script.js';
import { smallDumpFile } from './pgdump.js';

const kinds = (parts: ScriptPart[]) => parts.map((p) => (p.kind === 'sql' ? `sql:${p.sql.trim()}` : `copy:${p.target}:${JSON.stringify(p.data)}`));

describe('parsePsqlScript', () => {
  it.each([
    ['plain SQL stays one chunk', 'CREATE TABLE a (id int);\nINSERT INTO a VALUES (1);\n', ['sql:CREATE TABLE a (id int);\nINSERT INTO a VALUES (1);']],
    ['a COPY block between statements', 'CREATE TABLE a (id int, t text);\nCOPY public.a (id, t) FROM stdin;\n1\tone\n2\t\\N\n\\.\nSELECT 1;\n', ['sql:CREATE TABLE a (id int, t text);', 'copy:public.a:"1\\tone\\n2\\t\\\\N\\n"', 'sql:SELECT 1;']],
    ['quoted names in the target', 'COPY "My Schema"."Tab""le" FROM STDIN;\n1\n\\.\n', ['copy:"My Schema"."Tab""le":"1\\n"']],
    ['an empty COPY block', 'COPY a FROM stdin;\n\\.\n', ['copy:a:""']],
    ['COPY … FROM stdin inside a function body is not a block', "CREATE FUNCTION f() RETURNS void LANGUAGE sql AS $$ COPY a FROM stdin; $$;\n", ["sql:CREATE FUNCTION f() RETURNS void LANGUAGE sql AS $$ COPY a FROM stdin; $$;"]],
    ['COPY from a file is SQL', "COPY a FROM '/tmp/a.csv';\n", ["sql:COPY a FROM '/tmp/a.csv';"]],
    ['backslashes in strings are not meta-commands', "SELECT 'a\\b', E'c\\'d';\n", ["sql:SELECT 'a\\b', E'c\\'d';"]],
  ])('%s', (_name, script, expected) => {
    expect(kinds(parsePsqlScript(script, 'x.sql'))).toEqual(expected);
  });

  it("blanks pg_dump's meta-commands out of the chunk, keeping every offset the file's", () => {
    const script = '\\restrict abc123\nSET a = 1;\n\\connect app\nSELECT 2;\n\\unrestrict abc123\n';
    const [part] = parsePsqlScript(script, 'x.sql');
    expect(part).toMatchObject({ kind: 'sql', offset: 1 });
    expect((part as { sql: string }).sql).toHaveLength(script.length);
    expect((part as { sql: string }).sql).not.toContain('\\');
    expect((part as { sql: string }).sql.indexOf('SELECT 2')).toBe(script.indexOf('SELECT 2'));
  });

  it('a COPY after a meta-command is still found, at its own line', () => {
    const parts = parsePsqlScript('\\restrict k\n\nCOPY a FROM stdin;\n1\n\\.\n', 'x.sql');
    expect(parts).toEqual([{ kind: 'copy', statement: 'COPY a FROM stdin', target: 'a', offset: 14, data: '1\n', dataLine: 4 }]);
  });

  it.each([
    ['\\i other.sql', 'i', 2, 1],
    ['SELECT 1 \\gexec', 'gexec', 2, 10],
    ['  \\copy a from data.csv', 'copy', 2, 3],
  ])('%s is not supported, at file:line:col', (line, name, atLine, atColumn) => {
    let error: ShipgateError | undefined;
    try {
      parsePsqlScript(`SELECT 0;\n${line}\n`, 'db/x.sql');
    } catch (e) {
      error = e as ShipgateError;
    }
    expect(error?.format()).toMatch(new RegExp(`^db/x\\.sql:${atLine}:${atColumn}: psql meta-command \\\\${name} is not supported here \\[db\\.psql-meta\\]`));
  });

  it('reads the committed pg_dump 15.18 output: 21 COPY blocks, every data line accounted for', () => {
    const dump = readFileSync(smallDumpFile, 'utf8');
    const parts = parsePsqlScript(dump, 'dump.sql');
    const copies = parts.filter((p) => p.kind === 'copy');
    expect(copies).toHaveLength(21);
    const dataLines = copies.reduce((n, p) => n + p.data.split('\n').length - 1, 0);
    // the data lines of the file: between a COPY line and its \. line
    let inCopy = false;
    let expected = 0;
    for (const line of dump.split('\n')) {
      if (inCopy && line === '\\.') inCopy = false;
      else if (inCopy) expected += 1;
      else if (/^COPY .* FROM stdin;$/.test(line)) inCopy = true;
    }
    expect(dataLines).toBe(expected);
    expect(expected).toBeGreaterThan(400);
    for (const copy of copies) expect(dump.slice(copy.offset - 1)).toMatch(new RegExp(`^COPY ${copy.target.replace(/\./g, '\\.')} \\(`));
  });
});
