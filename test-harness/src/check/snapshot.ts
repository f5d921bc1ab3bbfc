// A schema snapshot: the user-visible schema of a database as sorted, stable text — types, domains
// and their CHECKs, tables and columns, partitioning and partition bounds, constraints, indexes,
// views, functions, aggregates, triggers, sequences (type, start, owner), row-level security and
// policies, extensions and their versions, collations, comments, grants and default privileges —
// so a committed copy shows in review exactly what a migration changed, and `shipgate db check`
// can tell when the migrations and the committed snapshot disagree.
import type { SqlClient } from '../sql/client.js';

const userSchemas = `n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') AND n.nspname NOT LIKE 'pg\\_temp%' AND n.nspname NOT LIKE 'pg\\_toast\\_temp%'`;

const queries: Array<[string, string]> = [
  ['schema', `SELECT 'schema ' || n.nspname AS line FROM pg_namespace n WHERE ${userSchemas} AND n.nspname <> 'public'`],
  ['enum', `SELECT 'enum ' || n.nspname || '.' || t.typname || ' (' || string_agg(quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder) || ')' AS line
     FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace WHERE ${userSchemas} GROUP BY n.nspname, t.typname`],
  ['column', `SELECT 'table ' || n.nspname || '.' || c.relname || ' column ' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
       || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
       || CASE WHEN d.adbin IS NOT NULL THEN ' default ' || pg_get_expr(d.adbin, d.adrelid) ELSE '' END
       || CASE WHEN a.attidentity <> '' THEN ' identity' ELSE '' END
       || coalesce((SELECT ' collate ' || co.collname FROM pg_collation co JOIN pg_type ty ON ty.oid = a.atttypid WHERE co.oid = a.attcollation AND a.attcollation <> ty.typcollation), '') AS line
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
  ['sequence', `SELECT 'sequence ' || n.nspname || '.' || c.relname || ' as ' || format_type(s.seqtypid, NULL) || ' start ' || s.seqstart || ' increment ' || s.seqincrement
       || ' min ' || s.seqmin || ' max ' || s.seqmax || ' cache ' || s.seqcache || CASE WHEN s.seqcycle THEN ' cycle' ELSE '' END
       || coalesce((SELECT CASE d.deptype WHEN 'i' THEN ' identity of ' ELSE ' owned by ' END || dn.nspname || '.' || dc.relname || '.' || a.attname
            FROM pg_depend d JOIN pg_class dc ON dc.oid = d.refobjid JOIN pg_namespace dn ON dn.oid = dc.relnamespace
            JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
            WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.refclassid = 'pg_class'::regclass AND d.refobjsubid > 0 AND d.deptype IN ('a', 'i') LIMIT 1), '') AS line
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_sequence s ON s.seqrelid = c.oid WHERE c.relkind = 'S' AND ${userSchemas}`],
  ['domain', `SELECT 'domain ' || n.nspname || '.' || t.typname || ' ' || format_type(t.typbasetype, t.typtypmod)
       || CASE WHEN t.typnotnull THEN ' not null' ELSE '' END || coalesce(' default ' || t.typdefault, '')
       || coalesce((SELECT string_agg(' constraint ' || con.conname || ' ' || pg_get_constraintdef(con.oid, true), '' ORDER BY con.conname)
            FROM pg_constraint con WHERE con.contypid = t.oid AND con.contype = 'c'), '') AS line
     FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE t.typtype = 'd' AND ${userSchemas}`],
  ['aggregate', `SELECT 'aggregate ' || n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ') sfunc ' || a.aggtransfn::regproc::text
       || ' stype ' || format_type(a.aggtranstype, NULL) || CASE WHEN a.aggfinalfn <> 0 THEN ' finalfunc ' || a.aggfinalfn::regproc::text ELSE '' END
       || CASE WHEN a.aggcombinefn <> 0 THEN ' combinefunc ' || a.aggcombinefn::regproc::text ELSE '' END || coalesce(' initcond ' || quote_literal(a.agginitval), '') AS line
     FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid JOIN pg_namespace n ON n.oid = p.pronamespace
     WHERE ${userSchemas} AND NOT EXISTS (SELECT 1 FROM pg_depend dep WHERE dep.objid = p.oid AND dep.deptype = 'e')`],
  ['partitioning', `SELECT 'table ' || n.nspname || '.' || c.relname || ' partition by ' || pg_get_partkeydef(c.oid) AS line
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'p' AND ${userSchemas}`],
  ['partition', `SELECT 'table ' || n.nspname || '.' || c.relname || ' partition of ' || pn.nspname || '.' || pc.relname || ' ' || pg_get_expr(c.relpartbound, c.oid) AS line
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_inherits i ON i.inhrelid = c.oid
     JOIN pg_class pc ON pc.oid = i.inhparent JOIN pg_namespace pn ON pn.oid = pc.relnamespace WHERE c.relispartition AND ${userSchemas}`],
  ['row security', `SELECT 'table ' || n.nspname || '.' || c.relname || ' row level security' || CASE WHEN c.relforcerowsecurity THEN ' forced' ELSE ' enabled' END AS line
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relrowsecurity AND ${userSchemas}`],
  ['policy', `SELECT 'policy ' || p.policyname || ' on ' || p.schemaname || '.' || p.tablename || ' ' || p.permissive || ' for ' || p.cmd
       || ' to ' || array_to_string(p.roles, ', ') || coalesce(' using (' || p.qual || ')', '') || coalesce(' with check (' || p.with_check || ')', '') AS line
     FROM pg_policies p`],
  // plpgsql is in every database from the start: only what a migration installed
  ['extension', `SELECT 'extension ' || e.extname || ' ' || e.extversion || ' in schema ' || n.nspname AS line FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname <> 'plpgsql'`],
  // pg_collation's locale column is named differently across majors: read the row as JSON
  ['collation', `SELECT 'collation ' || n.nspname || '.' || c.collname || ' provider ' || c.collprovider::text || ' deterministic ' || c.collisdeterministic::text
       || coalesce(' locale ' || coalesce(to_jsonb(c) ->> 'colllocale', to_jsonb(c) ->> 'colliculocale'), '')
       || coalesce(' lc_collate ' || nullif(to_jsonb(c) ->> 'collcollate', ''), '') || coalesce(' lc_ctype ' || nullif(to_jsonb(c) ->> 'collctype', ''), '') AS line
     FROM pg_collation c JOIN pg_namespace n ON n.oid = c.collnamespace WHERE ${userSchemas}`],
  // user objects only (oids from 16384 on), not what an extension brings
  ['comment', `SELECT 'comment on ' || o.type || ' ' || o.identity || ' is ' || quote_literal(d.description) AS line
     FROM pg_description d, pg_identify_object(d.classoid, d.objoid, d.objsubid) o WHERE d.objoid >= 16384 AND d.classoid <> 'pg_database'::regclass
     AND NOT EXISTS (SELECT 1 FROM pg_depend dep WHERE dep.classid = d.classoid AND dep.objid = d.objoid AND dep.deptype = 'e')`],
  ['default privileges', `SELECT 'default privileges for role ' || pg_get_userbyid(a.defaclrole) || coalesce(' in schema ' || n.nspname, '') || ' on '
       || CASE a.defaclobjtype WHEN 'r' THEN 'tables' WHEN 'S' THEN 'sequences' WHEN 'f' THEN 'functions' WHEN 'T' THEN 'types' WHEN 'n' THEN 'schemas' ELSE a.defaclobjtype::text END
       || ' grant ' || (SELECT string_agg(x.privilege_type || ' to ' || CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(x.grantee) END, ', ' ORDER BY 1)
            FROM aclexplode(a.defaclacl) x) AS line
     FROM pg_default_acl a LEFT JOIN pg_namespace n ON n.oid = a.defaclnamespace`],
  // grants to others than the owner: the owner's own privilege letters grow between majors (MAINTAIN in 17)
  ['grant', `SELECT 'grant ' || string_agg(x.privilege_type, ', ' ORDER BY x.privilege_type) || ' on ' || CASE c.relkind WHEN 'S' THEN 'sequence ' ELSE 'table ' END
       || n.nspname || '.' || c.relname || ' to ' || CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(x.grantee) END
       || CASE WHEN bool_or(x.is_grantable) THEN ' with grant option' ELSE '' END AS line
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace, aclexplode(c.relacl) x
     WHERE c.relacl IS NOT NULL AND x.grantee <> c.relowner AND ${userSchemas} GROUP BY n.nspname, c.relname, c.relkind, x.grantee`],
  ['grant', `SELECT 'grant ' || string_agg(x.privilege_type, ', ' ORDER BY x.privilege_type) || ' on function ' || n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ') to '
       || CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(x.grantee) END AS line
     FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace, aclexplode(p.proacl) x
     WHERE p.proacl IS NOT NULL AND x.grantee <> p.proowner AND ${userSchemas} GROUP BY n.nspname, p.proname, p.oid, x.grantee`],
  ['grant', `SELECT 'grant ' || string_agg(x.privilege_type, ', ' ORDER BY x.privilege_type) || ' on schema ' || n.nspname || ' to ' || CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(x.grantee) END AS line
     FROM pg_namespace n, aclexplode(n.nspacl) x WHERE n.nspacl IS NOT NULL AND x.grantee <> n.nspowner AND ${userSchemas} GROUP BY n.nspname, x.grantee`],
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

/**
 * Row counts of every table that holds rows, for the seed summary: each row once. A partitioned
 * table holds none itself (its partitions are counted), and `ONLY` keeps an inheritance parent
 * from counting its children's rows again.
 */
export async function tableRowCounts(client: SqlClient): Promise<Record<string, number>> {
  const { rows } = await client.query<{ name: string }>(
    `SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND ${userSchemas} ORDER BY 1`,
  );
  const counts: Record<string, number> = {};
  for (const { name } of rows) counts[name.replace(/^public\./, '')] = (await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM ONLY ${name}`)).rows[0]!.n;
  return counts;
}
