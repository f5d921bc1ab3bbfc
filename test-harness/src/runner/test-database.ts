// The per-test helper every runner shares: `const db = useTestDatabase()` at the top of a test
// file, then `db.client` and `db.url` inside tests. Each test (or file, or transaction — see
// isolation) gets a fresh, migrated, seeded database that nothing else touches. The jest and
// vitest entry points bind it to their runner's hooks.
import { openHarness, prepareHarness, type Harness, type HarnessConfig, type HarnessState, type Isolation, type PreparedHarness, type TestDatabase } from '../harness.js';
import type { SqlClient } from '../sql/client.js';

export interface UseTestDatabaseOptions extends HarnessConfig {
  /** Overrides the run's isolation for this file. */
  isolation?: Isolation;
  /** Timeout of the set-up hooks (a first PGlite start compiles WASM). Default 60 s. */
  setupTimeoutMs?: number;
}

export interface TestDatabaseHandle {
  /** A connected client (node-postgres or PGlite behind one interface). */
  readonly client: SqlClient;
  /** postgres:// URL of this test's database (server providers). */
  readonly url: string;
  /** The database's name. */
  readonly name: string;
}

/** The hooks of a test runner (jest's and vitest's have this shape). */
export interface TestHooks {
  beforeAll(fn: () => Promise<void>, timeout?: number): void;
  afterAll(fn: () => Promise<void>, timeout?: number): void;
  beforeEach(fn: () => Promise<void>, timeout?: number): void;
  afterEach(fn: () => Promise<void>, timeout?: number): void;
}

/**
 * `useTestDatabase()` over a runner's hooks. `runState` is the state the runner's global set-up
 * left (undefined: prepare a harness for this file alone). Every test file opens its own pool,
 * closed in afterAll (jest and vitest give each file its own module registry).
 */
export function bindTestDatabase(hooks: TestHooks, runState: () => HarnessState | undefined, options: UseTestDatabaseOptions = {}): TestDatabaseHandle {
  const { beforeAll, afterAll, beforeEach, afterEach } = hooks;
  let harness: Harness | undefined;
  let ownPrepared: PreparedHarness | undefined;
  let current: TestDatabase | undefined;
  let isolation: Isolation = options.isolation ?? 'test';
  let guarded: SqlClient | undefined;
  const timeout = options.setupTimeoutMs ?? 60_000;

  beforeAll(async () => {
    const state = runState();
    harness = state ? openHarness(state) : undefined;
    if (!harness) {
      // no global set-up: prepare for this file alone (slower; the preset shares one template per run)
      ownPrepared = await prepareHarness(options);
      harness = openHarness(ownPrepared.state);
    }
    isolation = options.isolation ?? harness.state.isolation;
    if (isolation !== 'test') current = await harness.acquire();
    if (isolation === 'transaction') guarded = statementSavepoints(current!.client);
  }, timeout);

  beforeEach(async () => {
    if (isolation === 'test') current = await harness!.acquire();
    else if (isolation === 'transaction') await current!.client.exec('BEGIN');
  }, timeout);

  afterEach(async () => {
    if (isolation === 'test') {
      await current?.release();
      current = undefined;
    } else if (isolation === 'transaction') {
      await current?.client.exec('ROLLBACK');
    }
  }, timeout);

  afterAll(async () => {
    await current?.release();
    current = undefined;
    await harness?.close();
    await ownPrepared?.stop();
  }, timeout);

  const get = (): TestDatabase => {
    if (!current) throw new Error('useTestDatabase(): the database exists only inside tests and hooks (call it at the top of the file, use it in it/test)');
    return current;
  };
  return {
    get client() {
      const db = get();
      return isolation === 'transaction' && guarded ? guarded : db.client;
    },
    get url() {
      const url = get().url;
      if (!url) throw new Error('this provider (pglite) has no URL; use db.client, or provider postgres / url');
      return url;
    },
    get name() {
      return get().name;
    },
  };
}

/**
 * In transaction isolation every statement runs under a savepoint, so a statement that fails (an
 * expected constraint violation) fails alone, as it would outside a transaction, instead of
 * aborting the test's whole transaction. Statements are serialised: savepoints nest by order.
 */
export function statementSavepoints(client: SqlClient): SqlClient {
  let queue: Promise<unknown> = Promise.resolve();
  const guard = <T>(work: () => Promise<T>): Promise<T> => {
    const next = queue.then(async () => {
      await client.exec('SAVEPOINT shipgate_statement');
      try {
        const result = await work();
        await client.exec('RELEASE SAVEPOINT shipgate_statement');
        return result;
      } catch (error) {
        await client.exec('ROLLBACK TO SAVEPOINT shipgate_statement; RELEASE SAVEPOINT shipgate_statement');
        throw error;
      }
    });
    queue = next.catch(() => undefined);
    return next;
  };
  return {
    query: (sql, params) => guard(() => client.query(sql, params)),
    exec: (sql) => guard(() => client.exec(sql)),
    close: () => client.close(),
  };
}
