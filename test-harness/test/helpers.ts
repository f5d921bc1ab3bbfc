import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findPostgresBinaries } from '../src/providers/postgres.js';

const dirs: string[] = [];

/** A temp project with files { 'db/migrations/V1__x.sql': '…' }. */
export function project(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sg-th-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

export function cleanup(): void {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

export const schema = {
  'db/migrations/V1__customers.sql': "CREATE TYPE tier AS ENUM ('free', 'pro');\nCREATE TABLE customers (id serial PRIMARY KEY, name text NOT NULL, tier tier NOT NULL DEFAULT 'free');\n",
  'db/migrations/V1.1__orders.sql': 'CREATE TABLE orders (id serial PRIMARY KEY, customer_id int NOT NULL REFERENCES customers (id), total int NOT NULL);\n',
  'db/migrations/R__views.sql': 'CREATE OR REPLACE VIEW totals AS SELECT customer_id, sum(total)::int AS total FROM orders GROUP BY customer_id;\n',
  'db/seed/001.sql': "INSERT INTO customers (name, tier) VALUES ('ada', 'pro'), ('linus', 'free');\nINSERT INTO orders (customer_id, total) VALUES (1, 10), (1, 5);\n",
};

/**
 * Postgres server binaries: in CI they must be there (.ci/run installs postgresql); elsewhere a
 * test that needs them is skipped, saying why.
 */
export function postgresAvailable(): boolean {
  const found = findPostgresBinaries() !== undefined;
  if (!found && process.env.CI === 'true') throw new Error('CI must provide Postgres server binaries (.ci/run installs postgresql)');
  if (!found) console.warn('skipping the postgres provider tests: no Postgres server binaries on this machine (apt-get install postgresql)');
  return found;
}

/**
 * A Docker engine and the locally built Postgres image: in CI they must be there (.ci/run starts
 * dockerd and runs scripts/build-postgres-image.sh); elsewhere the tests that need them are
 * skipped, saying why.
 */
export function dockerAvailable(image = process.env.SHIPGATE_TEST_PG_IMAGE ?? 'shipgate/postgres:15-bookworm'): boolean {
  const engine = spawnSync('docker', ['info'], { stdio: 'ignore', timeout: 20_000 }).status === 0;
  const found = engine && spawnSync('docker', ['image', 'inspect', image], { stdio: 'ignore', timeout: 20_000 }).status === 0;
  const script = image.includes('mariadb') ? 'build-mariadb-image.sh' : 'build-postgres-image.sh';
  if (!found && process.env.CI === 'true') throw new Error(`CI must provide a Docker engine and the ${image} image (.ci/run: scripts/docker-up.sh, test-harness/scripts/${script})`);
  if (!found) console.warn(`skipping the tests on ${image}: ${engine ? `no such image (bash test-harness/scripts/${script})` : 'no Docker engine answers'}`);
  return found;
}

/**
 * Runs a fixture script that sets something up, prints one JSON line and waits; kills it with
 * SIGKILL (nothing in it can clean up) once the line is there. Returns the line and the pid.
 */
export async function runThenKill<T>(script: string, args: string[], timeoutMs = 90_000): Promise<{ held: T; pid: number }> {
  const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${path.basename(script)} never printed its line: ${err}`)), timeoutMs);
      child.stdout.on('data', () => out.includes('\n') && (clearTimeout(timer), resolve()));
      child.on('exit', (code) => (clearTimeout(timer), reject(new Error(`${path.basename(script)} exited (${code}): ${err}`))));
    });
  } finally {
    child.kill('SIGKILL');
  }
  await new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(undefined) : child.once('close', r)));
  return { held: JSON.parse(out) as T, pid: child.pid! };
}

/** A MariaDB schema in MySQL syntax: FKs, an index, a generated column, a view, a function and a trigger (DELIMITER). */
export const mariadbSchema = {
  'db/migrations/V1__customers.sql': [
    "CREATE TABLE customers (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(80) NOT NULL, tier ENUM('free', 'pro') NOT NULL DEFAULT 'free', slug VARCHAR(80) AS (LOWER(name)) STORED);",
    'CREATE INDEX customers_tier ON customers (tier);',
  ].join('\n'),
  'db/migrations/V2__orders.sql': [
    '-- orders, and a trigger that keeps a running count',
    'CREATE TABLE orders (id INT AUTO_INCREMENT PRIMARY KEY, customer_id INT NOT NULL, total INT NOT NULL, CONSTRAINT orders_customer FOREIGN KEY (customer_id) REFERENCES customers (id));',
    'CREATE TABLE order_counts (customer_id INT PRIMARY KEY, n INT NOT NULL);',
    '',
    'DELIMITER $$',
    'CREATE TRIGGER orders_count AFTER INSERT ON orders FOR EACH ROW',
    'BEGIN',
    '  INSERT INTO order_counts (customer_id, n) VALUES (NEW.customer_id, 1) ON DUPLICATE KEY UPDATE n = n + 1;',
    'END$$',
    'CREATE FUNCTION with_tax(x INT) RETURNS INT DETERMINISTIC',
    'BEGIN',
    '  RETURN ROUND(x * 1.2);',
    'END$$',
    'DELIMITER ;',
  ].join('\n'),
  'db/migrations/R__views.sql': 'CREATE OR REPLACE VIEW totals AS SELECT customer_id, SUM(total) AS total FROM orders GROUP BY customer_id;\n',
  'db/seed/001.sql': "INSERT INTO customers (name, tier) VALUES ('Ada', 'pro'), ('Linus', 'free');\nINSERT INTO orders (customer_id, total) VALUES (1, 10), (1, 5);\n",
};

/** A Docker engine and the locally built MariaDB image (CI builds it; elsewhere the tests are skipped, saying why). */
export function mariadbAvailable(): boolean {
  return dockerAvailable(process.env.SHIPGATE_TEST_MARIADB_IMAGE ?? 'shipgate/mariadb:10.11-bookworm');
}
