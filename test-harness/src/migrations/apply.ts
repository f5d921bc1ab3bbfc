// Applies migrations and seeds to a database, turning a server error into file:line:col.
import { ExitCode, ShipgateError } from '@shipgate/pipelines/errors';
import { postgresErrorFields, type SqlClient } from '../sql/client.js';
import { lineAndColumn, type Migration } from './discover.js';
import { splitStatements } from './split.js';
import { splitMysqlStatements } from './split-mysql.js';
import { isMysqlClient, mysqlErrorFields, type MysqlSqlClient } from '../sql/mysql.js';
import type { PostgresErrorFields } from '../sql/client.js';

export interface SqlScript {
  /** What to call it in errors: a path relative to the project. */
  name: string;
  sql: string;
}

/** Runs one script; a failure names the file, the line and column of the failing statement and the server's error. */
export async function runScript(client: SqlClient, script: SqlScript, what: 'migration' | 'seed'): Promise<void> {
  if (isMysqlClient(client)) return runMysqlScript(client, script, what);
  try {
    await client.exec(script.sql);
  } catch (error) {
    let pgError = postgresErrorFields(error);
    let at = pgError.position !== undefined ? lineAndColumn(script.sql, pgError.position) : undefined;
    if (!at) {
      const located = await locateFailure(client, script.sql).catch(() => undefined);
      if (located) {
        at = lineAndColumn(script.sql, located.offset);
        pgError = { ...located.error, message: pgError.message };
      }
    }
    const statementLine = at ?? firstStatementLine(script.sql);
    throw new ShipgateError(
      what === 'migration' ? 'db.migration-failed' : 'db.seed-failed',
      `${what} ${script.name}${at ? `:${at.line}:${at.column}` : ''} failed: ${pgError.message}${pgError.code ? ` (SQLSTATE ${pgError.code})` : ''}`,
      {
        location: { file: script.name, line: statementLine.line, column: statementLine.column },
        hint: [pgError.detail, pgError.hint, pgError.where].filter(Boolean).join('; ') || `fix the ${what}; nothing was kept (the database is thrown away)`,
        exitCode: ExitCode.failed,
      },
    );
  }
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
        `${what} ${script.name}:${at.line}:${at.column} failed: ${fields.message}${fields.errno ? ` (${fields.code ?? 'error'} ${fields.errno}${fields.sqlState ? `, SQLSTATE ${fields.sqlState}` : ''})` : ''}`,
        { location: { file: script.name, line: at.line, column: at.column }, hint: `fix the ${what}; nothing was kept (the database is thrown away)`, exitCode: ExitCode.failed },
      );
    }
  }
}

function firstStatementLine(sql: string): { line: number; column: number } {
  const index = sql.search(/\S/);
  return index === -1 ? { line: 1, column: 1 } : lineAndColumn(sql, index + 1);
}

export async function applyMigrations(client: SqlClient, migrations: readonly Migration[], displayDir: string, onProgress?: (name: string) => void): Promise<void> {
  for (const migration of migrations) {
    onProgress?.(migration.name);
    await runScript(client, { name: `${displayDir}/${migration.name}`, sql: migration.sql }, 'migration');
  }
}
