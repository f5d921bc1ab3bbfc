// Applies migrations and seeds to a database, turning a server error into file:line:col.
import { ExitCode, ShipgateError } from '@shipgate/protocol';
import { postgresErrorFields, type SqlClient } from '../sql/client.js';
import type { Migration } from './discover.js';
import { lineAndColumn } from '../sql/lexer.js';
import { splitStatements } from '../sql/split.js';
import { copyFromStdin } from '../sql/copy.js';
import { parsePsqlScript, type ScriptPart } from '../sql/psql-script.js';
import { splitMysqlStatements } from '../sql/split-mysql.js';
import { isMysqlClient, mysqlErrorFields, type MysqlSqlClient } from '../sql/mysql.js';
import type { PostgresErrorFields } from '../sql/client.js';

export interface SqlScript {
  /** What to call it in errors: a path relative to the project. */
  name: string;
  sql: string;
}

/**
 * Runs one script the way psql would: SQL chunks as one simple query each, `COPY … FROM stdin`
 * blocks through the COPY protocol, pg_dump's meta-commands accepted. A failure names the file,
 * the line and column of the failing statement (of the COPY statement itself for bad data) and the
 * server's error, with the file:line in the location only (ShipgateError.format prints it once).
 */
export async function runScript(client: SqlClient, script: SqlScript, what: 'migration' | 'seed'): Promise<void> {
  if (isMysqlClient(client)) return runMysqlScript(client, script, what);
  for (const part of parsePsqlScript(script.sql, script.name)) {
    if (part.kind === 'sql') await runChunk(client, script, part, what);
    else await runCopy(client, script, part, what);
  }
  // psql runs each file in a session of its own, and Flyway restores the session after each
  // migration: settings a file made (pg_dump empties search_path) must not reach the next file
  await client.exec('RESET ALL');
}

async function runChunk(client: SqlClient, script: SqlScript, part: Extract<ScriptPart, { kind: 'sql' }>, what: 'migration' | 'seed'): Promise<void> {
  try {
    await client.exec(part.sql);
  } catch (error) {
    let pgError = postgresErrorFields(error);
    let offset = pgError.position !== undefined ? part.offset - 1 + pgError.position : undefined;
    if (offset === undefined) {
      const located = await locateFailure(client, part.sql).catch(() => undefined);
      if (located) {
        offset = part.offset - 1 + located.offset;
        pgError = { ...located.error, message: pgError.message };
      }
    }
    const at = offset !== undefined ? lineAndColumn(script.sql, offset) : firstStatementLine(script.sql, part.offset);
    throw scriptError(script, what, at, '', pgError);
  }
}

async function runCopy(client: SqlClient, script: SqlScript, part: Extract<ScriptPart, { kind: 'copy' }>, what: 'migration' | 'seed'): Promise<void> {
  try {
    await copyFromStdin(client, part.statement, part.data);
  } catch (error) {
    if (error instanceof ShipgateError) throw error;
    const pgError = postgresErrorFields(error);
    // the server says `COPY actor, line 3, column actor_id: "x"`: line 3 of the data is a line of the file
    const copyWhere = /^COPY [^,]+, line (\d+)(?:, column ([^:]+))?/.exec(pgError.where ?? '');
    const row = copyWhere?.[1];
    const doing = `COPY ${part.target}${row ? `, row ${row} (line ${part.dataLine + Number(row) - 1})` : ''}${copyWhere?.[2] ? `, column ${copyWhere[2]}` : ''}: `;
    const fields: PostgresErrorFields = { ...pgError };
    delete fields.where; // said in the message already
    throw scriptError(script, what, lineAndColumn(script.sql, part.offset), doing, fields);
  }
}

/** A dump of production names its roles (OWNER TO, GRANT); a test database has only its own. */
function missingRoleHint(pgError: PostgresErrorFields): string | undefined {
  if (pgError.code !== '42704' || !/^role ".*" does not exist$/.test(pgError.message)) return undefined;
  return 'the script names a role this database does not have: dump without owners and grants (pg_dump --no-owner --no-privileges), or create the role in an earlier migration';
}

function scriptError(script: SqlScript, what: 'migration' | 'seed', at: { line: number; column: number }, doing: string, pgError: PostgresErrorFields): ShipgateError {
  return new ShipgateError(what === 'migration' ? 'db.migration-failed' : 'db.seed-failed', `${what} failed: ${doing}${pgError.message}${pgError.code ? ` (SQLSTATE ${pgError.code})` : ''}`, {
    location: { file: script.name, line: at.line, column: at.column },
    hint: missingRoleHint(pgError) ?? ([...new Set([pgError.detail, pgError.hint, pgError.where].filter(Boolean))].join('; ') || `fix the ${what}; nothing was kept (the database is thrown away)`),
    exitCode: ExitCode.failed,
  });
}

/**
 * The server gave no position: run the statements one by one in a transaction that is rolled back,
 * to find the one that fails (the database is being thrown away anyway).
 */
async function locateFailure(client: SqlClient, sql: string): Promise<{ offset: number; error: PostgresErrorFields } | undefined> {
  const statements = splitStatements(sql);
  if (statements.length < 2) return statements[0] ? { offset: statements[0].offset, error: { message: '' } } : undefined;
  await client.exec('BEGIN');
  try {
    for (const statement of statements) {
      try {
        await client.exec(statement.sql);
      } catch (error) {
        const fields = postgresErrorFields(error);
        const within = fields.position !== undefined ? fields.position - 1 : 0;
        return { offset: statement.offset + within, error: fields };
      }
    }
    return undefined;
  } finally {
    await client.exec('ROLLBACK').catch(() => undefined);
  }
}

/** MySQL / MariaDB: statements are sent one by one (DDL commits by itself there anyway). */
async function runMysqlScript(client: MysqlSqlClient, script: SqlScript, what: 'migration' | 'seed'): Promise<void> {
  for (const statement of splitMysqlStatements(script.sql)) {
    try {
      await client.connection.query(statement.sql);
    } catch (error) {
      const fields = mysqlErrorFields(error);
      const start = lineAndColumn(script.sql, statement.offset);
      // a syntax error says "at line N" of the statement
      const at = fields.line && fields.line > 1 ? { line: start.line + fields.line - 1, column: 1 } : start;
      throw new ShipgateError(
        what === 'migration' ? 'db.migration-failed' : 'db.seed-failed',
        `${what} failed: ${fields.message}${fields.errno ? ` (${fields.code ?? 'error'} ${fields.errno}${fields.sqlState ? `, SQLSTATE ${fields.sqlState}` : ''})` : ''}`,
        { location: { file: script.name, line: at.line, column: at.column }, hint: `fix the ${what}; nothing was kept (the database is thrown away)`, exitCode: ExitCode.failed },
      );
    }
  }
}

/** Where the first statement at or after `from` (1-based) starts. */
function firstStatementLine(sql: string, from = 1): { line: number; column: number } {
  const index = sql.slice(from - 1).search(/\S/);
  return index === -1 ? lineAndColumn(sql, from) : lineAndColumn(sql, from + index);
}

export async function applyMigrations(client: SqlClient, migrations: readonly Migration[], displayDir: string, onProgress?: (name: string) => void): Promise<void> {
  for (const migration of migrations) {
    onProgress?.(migration.name);
    await runScript(client, { name: `${displayDir}/${migration.name}`, sql: migration.sql }, 'migration');
  }
}
