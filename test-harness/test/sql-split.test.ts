// Splitting a Postgres script into statements (to find the statement a server error belongs to).
import { describe, expect, it } from '@jest/globals';
import { lineAndColumn } from '../src/sql/lexer.js';
import { splitStatements } from '../src/sql/split.js';

describe('splitStatements (locating a failing statement)', () => {
  it('splits on semicolons outside quotes, dollar quotes, comments and BEGIN ATOMIC bodies', () => {
    const script = [
      "-- header; not a statement",
      "CREATE TABLE a (s text DEFAULT 'x;y', \"odd;name\" int);",
      "/* block; not a statement */",
      "CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $body$ BEGIN RETURN 1; END $body$;",
      "CREATE FUNCTION g() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END;",
      "INSERT INTO a (s) VALUES (E'it\\'s; fine');",
    ].join('\n');
    const statements = splitStatements(script);
    expect(statements).toHaveLength(4);
    expect(statements[0]!.sql).toBe("CREATE TABLE a (s text DEFAULT 'x;y', \"odd;name\" int)");
    expect(statements[1]!.sql).toBe('CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $body$ BEGIN RETURN 1; END $body$');
    expect(statements[2]!.sql).toBe('CREATE FUNCTION g() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END');
    expect(statements[3]!.sql).toBe("INSERT INTO a (s) VALUES (E'it\\'s; fine')");
    expect(lineAndColumn(script, statements[2]!.offset)).toEqual({ line: 5, column: 1 });
  });
});
