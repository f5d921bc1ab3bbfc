// The store's schema, as ordered migrations. Plain Postgres SQL that PGlite runs too. A migration
// is never edited once released: add a new one. Several replicas starting at once migrate under
// an advisory lock, so each migration runs once.
import type { SqlDatabase } from './sql.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const migrations: Migration[] = [
  {
    version: 1,
    name: 'approvals, deployments, outbox, audit',
    sql: `
CREATE TABLE approvals (
  id text PRIMARY KEY,
  service text NOT NULL,
  environment text NOT NULL,
  version text NOT NULL,
  digest text,
  summary text,
  requester text,
  idempotency_key text UNIQUE,
  backend jsonb NOT NULL,
  state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'approved', 'rejected', 'expired')),
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  decided_by text,
  decided_at timestamptz,
  reason text,
  channel text,
  message_ts text
);
CREATE INDEX approvals_pending ON approvals (expires_at) WHERE state = 'pending';
CREATE INDEX approvals_service ON approvals (service, environment, created_at DESC);

CREATE TABLE deployments (
  id text PRIMARY KEY,
  seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  service text NOT NULL,
  environment text NOT NULL,
  version text NOT NULL,
  digest text,
  image text,
  outcome text NOT NULL CHECK (outcome IN ('succeeded', 'failed', 'rolled-back')),
  deployer text,
  url text,
  rollback jsonb,
  approval_id text REFERENCES approvals (id),
  created_at timestamptz NOT NULL,
  channel text,
  message_ts text,
  rollback_state text CHECK (rollback_state IN ('requested', 'succeeded', 'failed')),
  rollback_by text,
  rollback_at timestamptz,
  rollback_target_id text REFERENCES deployments (id),
  rollback_detail text,
  rollback_of text REFERENCES deployments (id)
);
CREATE INDEX deployments_history ON deployments (service, environment, created_at DESC, seq DESC);

-- Work that must happen after a commit (tell a backend, post or update a Slack message), written
-- in the same transaction as the change that caused it. Workers claim rows with a lease
-- (FOR UPDATE SKIP LOCKED), so each row is worked by one replica at a time and a crash is retried.
CREATE TABLE outbox (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  kind text NOT NULL,
  subject_id text NOT NULL,
  payload jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now(),
  available_at timestamptz NOT NULL DEFAULT now(),
  attempts int NOT NULL DEFAULT 0,
  locked_by text,
  locked_until timestamptz,
  last_error text,
  done_at timestamptz,
  dead_at timestamptz
);
CREATE INDEX outbox_ready ON outbox (available_at, id) WHERE done_at IS NULL AND dead_at IS NULL;

-- Every request, decision, refusal, rollback and backend call, append-only.
CREATE TABLE audit (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at timestamptz NOT NULL DEFAULT now(),
  actor text,
  action text NOT NULL,
  subject_id text,
  outcome text NOT NULL,
  detail jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_subject ON audit (subject_id, id);
`,
  },
  {
    version: 2,
    name: 'inbox of acknowledged Slack requests',
    sql: `
-- Slack requests (clicks, modal submissions) written here before Slack is told they arrived, and
-- marked done once their listeners ran: what a crash interrupts is worked again at restart.
-- A replica holds the rows it received with a lease; rows whose lease lapsed are taken over.
CREATE TABLE inbox (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  received_at timestamptz NOT NULL DEFAULT now(),
  body text NOT NULL,
  locked_by text,
  locked_until timestamptz,
  attempts int NOT NULL DEFAULT 1,
  done_at timestamptz
);
CREATE INDEX inbox_open ON inbox (id) WHERE done_at IS NULL;
`,
  },
  {
    version: 3,
    name: 'deployments.report_url',
    sql: 'ALTER TABLE deployments ADD COLUMN report_url text;',
  },
  {
    version: 4,
    name: 'deployments.commit_sha and commit_at (DORA lead time)',
    sql: `
ALTER TABLE deployments ADD COLUMN commit_sha text;
ALTER TABLE deployments ADD COLUMN commit_at timestamptz;
-- the DORA window reads deployments by time across services
CREATE INDEX deployments_created ON deployments (created_at);
`,
  },
  {
    version: 5,
    name: 'deployments.reason (the failing check of a rolled-back deployment)',
    sql: 'ALTER TABLE deployments ADD COLUMN reason text;',
  },
];

/** Applies the migrations this database has not seen, one transaction each, under an advisory lock. */
export async function migrate(db: SqlDatabase): Promise<number[]> {
  return db.transaction(async (tx) => {
    // 0x5h1p: any constant the replicas share
    await tx.query('SELECT pg_advisory_xact_lock(5318)');
    await tx.query('CREATE TABLE IF NOT EXISTS shipgate_migrations (version int PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())');
    const done = new Set((await tx.query<{ version: number }>('SELECT version FROM shipgate_migrations')).rows.map((r) => r.version));
    const applied: number[] = [];
    for (const m of migrations) {
      if (done.has(m.version)) continue;
      // PGlite's extended protocol takes one statement per query: run the script statement by statement
      for (const statement of splitStatements(m.sql)) await tx.query(statement);
      await tx.query('INSERT INTO shipgate_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
      applied.push(m.version);
    }
    return applied;
  });
}

/** Splits this module's own migration scripts on `;` at line ends (they hold no functions or quoted semicolons). */
function splitStatements(script: string): string[] {
  return script
    .split(/;\s*\n/)
    .map((s) => s.replace(/^\s*--.*$/gm, '').trim())
    .filter(Boolean);
}
