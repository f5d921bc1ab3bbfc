// A schema snapshot: the user-visible schema of a database as sorted, stable text — types, tables
// and columns, constraints, indexes, views, functions, triggers, sequences — so a committed copy
// shows in review exactly what a migration changed, and `shipgate db check` can tell when the
// migrations and the committed snapshot disagree.
import type { SqlClient } from './sql/client.js';

const userSchemas = `n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') AND n.nspname NOT LIKE 'pg\\_temp%' AND n.nspname NOT LIKE 'pg\\_toast\\_temp%'`;

const queries: Array<[string, string]> = [
  ['schema', `SELECT 'schema ' || n.nspname AS line FROM pg_namespace n WHERE ${userSchemas} AND n.nspname <> 'public'`],
  ['enum', `SELECT 'enum ' || n.nspname || '.' || t.typname || ' (' || string_agg(quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder) || ')' AS line
     FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace WHERE ${userSchemas} GROUP BY n.nspname, t.typname`],
  ['column', `SELECT 'table ' || n.nspname || '.' || c.relname || ' column ' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
       || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
       || CASE WHEN d.adbin IS NOT NULL THEN ' default ' || pg_get_expr(d.adbin, d.adrelid) ELSE '' END
       || CASE WHEN a.attidentity <> '' THEN ' identity' ELSE '' END AS line
     FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
     WHERE c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped AND ${userSchemas}`],
  ['constraint', `SELECT 'table ' || n.nspname || '.' || c.relname || ' constraint ' || con.conname || ' ' || pg_get_constraintdef(con.oid, true) AS line
     FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE ${userSchemas} AND con.contype <> 'n'`],
  ['index', `SELECT 'index ' || pg_get_indexdef(i.indexrelid) AS line
     FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE ${userSchemas} AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = i.indexrelid AND con.contype IN ('p', 'u', 'x'))`],
  ['view', `SELECT (CASE c.relkind WHEN 'm' THEN 'materialized view ' ELSE 'view ' END) || n.nspname || '.' || c.relname || ' AS ' || regexp_replace(pg_get_viewdef(c.oid, true), '\\s+', ' ', 'g') AS line
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('v', 'm') AND ${userSchemas}`],
  ['function', `SELECT 'function ' || regexp_replace(pg_get_functiondef(p.oid), '\\s+', ' ', 'g') AS line
     FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
     WHERE ${userSchemas} AND p.prokind IN ('f', 'p') AND NOT EXISTS (SELECT 1 FROM pg_depend dep WHERE dep.objid = p.oid AND dep.deptype = 'e')`],
  ['trigger', `SELECT 'trigger ' || pg_get_triggerdef(t.oid, true) AS line
     FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE NOT t.tgisinternal AND ${userSchemas}`],
  ['sequence', `SELECT 'sequence ' || n.nspname || '.' || c.relname AS line
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'S' AND ${userSchemas}`],
];

/** The schema as sorted lines, one object per line. */
export async function schemaSnapshot(client: SqlClient): Promise<string> {
  const lines: string[] = [];
  for (const [, sql] of queries) {
    const { rows } = await client.query<{ line: string }>(sql);
    lines.push(...rows.map((r) => r.line.trim()));
  }
  return `${lines.sort().join('\n')}\n`;
}

/** Row counts of every user table, for the seed summary. */
export async function tableRowCounts(client: SqlClient): Promise<Record<string, number>> {
  const { rows } = await client.query<{ name: string }>(
    `SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p') AND ${userSchemas} ORDER BY 1`,
  );
  const counts: Record<string, number> = {};
  for (const { name } of rows) counts[name.replace(/^public\./, '')] = (await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${name}`)).rows[0]!.n;
  return counts;
}
