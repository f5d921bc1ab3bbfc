// Splitting a script into statements: Postgres (to find the statement a server error belongs to)
// and MySQL (statements are sent one by one), over the shared lexer.
import { describe, expect, it } from '@jest/globals';
import { lineAndColumn } from '../src/sql/lexer.js';
import { splitStatements } from '../src/sql/split.js';
import { splitMysqlStatements } from '../src/sql/split-mysql.js';

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

  it('splits the way pg_dump writes a schema: SET lines, comment banners, $_$ bodies with $1, and BEGIN ATOMIC over several lines', () => {
    // the shape of a real pg_dump of the pagila sample database, written anew here
    const script = [
      '--',
      '-- PostgreSQL database dump',
      '--',
      '',
      'SET standard_conforming_strings = on;',
      "SELECT pg_catalog.set_config('search_path', '', false);",
      '',
      '--',
      '-- Name: _group_concat(text, text); Type: FUNCTION; Schema: public; Owner: postgres',
      '--',
      '',
      'CREATE FUNCTION public._group_concat(text, text) RETURNS text',
      '    LANGUAGE sql IMMUTABLE',
      '    AS $_$',
      "SELECT CASE WHEN $2 IS NULL THEN $1 ELSE $1 || ', ' || $2 END;",
      '$_$;',
      'CREATE FUNCTION public.total(a int) RETURNS int LANGUAGE sql BEGIN',
      '        ATOMIC',
      '    SELECT a + 1;',
      'END;',
    ].join('\n');
    const statements = splitStatements(script);
    expect(statements.map((s) => s.sql.split('\n')[0])).toEqual([
      'SET standard_conforming_strings = on',
      "SELECT pg_catalog.set_config('search_path', '', false)",
      'CREATE FUNCTION public._group_concat(text, text) RETURNS text',
      'CREATE FUNCTION public.total(a int) RETURNS int LANGUAGE sql BEGIN',
    ]);
    expect(statements[2]!.sql.endsWith('$_$')).toBe(true);
    expect(lineAndColumn(script, statements[2]!.offset)).toEqual({ line: 12, column: 1 });
    expect(lineAndColumn(script, statements[3]!.offset)).toEqual({ line: 17, column: 1 });
  });
});

describe('MySQL statement splitter', () => {
  it('splits on ; outside quotes and comments, honours DELIMITER, keeps positions', () => {
    const script = "-- note; not a statement\nINSERT INTO t VALUES ('a;b', \"c;d\", `e;f`); # trailing; comment\n/* x; */ SELECT 1;\nDELIMITER $$\nCREATE TRIGGER x BEFORE INSERT ON t FOR EACH ROW BEGIN SET NEW.a = 1; END$$\nDELIMITER ;\nSELECT 2";
    const statements = splitMysqlStatements(script);
    expect(statements.map((s) => s.sql)).toEqual([
      "INSERT INTO t VALUES ('a;b', \"c;d\", `e;f`)",
      'SELECT 1',
      'CREATE TRIGGER x BEFORE INSERT ON t FOR EACH ROW BEGIN SET NEW.a = 1; END',
      'SELECT 2',
    ]);
    expect(script.slice(statements[1]!.offset - 1).startsWith('SELECT 1')).toBe(true);
  });

  it('splits the way mysqldump writes: /*!…*/ statements and column lines, DELIMITER ;; trigger bodies, bare -- lines', () => {
    // the shape of the sakila schema in the MySQL employees sample, written anew here
    const script = [
      '--',
      '-- Table structure for table `address`',
      '--',
      'CREATE TABLE `address` (',
      '  `address_id` SMALLINT UNSIGNED NOT NULL AUTO_INCREMENT,',
      '  /*!50705 location GEOMETRY NOT NULL,*/',
      "  `note` VARCHAR(50) DEFAULT 'a;b',",
      '  PRIMARY KEY (`address_id`)',
      ');',
      '/*!50610 ALTER TABLE address engine=InnoDB */;',
      'DELIMITER ;;',
      'CREATE TRIGGER `ins_address` AFTER INSERT ON `address` FOR EACH ROW BEGIN',
      '    IF (new.note != \'x\') THEN SET @n = 1; END IF;',
      '  END;;',
      'DELIMITER ;',
      'SELECT 1--1;',
    ].join('\n');
    const statements = splitMysqlStatements(script);
    expect(statements.map((s) => s.sql.split('\n')[0])).toEqual([
      'CREATE TABLE `address` (',
      '/*!50610 ALTER TABLE address engine=InnoDB */',
      'CREATE TRIGGER `ins_address` AFTER INSERT ON `address` FOR EACH ROW BEGIN',
      'SELECT 1--1',
    ]);
    expect(statements[0]!.sql).toContain('/*!50705 location GEOMETRY NOT NULL,*/');
    expect(statements[2]!.sql.endsWith('END IF;\n  END')).toBe(true);
    expect(lineAndColumn(script, statements[2]!.offset)).toEqual({ line: 12, column: 1 });
  });
});
