// The test harness as a shipgate plugin: the `db-test` step and the `shipgate db check` command.
// Loaded by the shipgate CLI when this package is installed; heavy parts load only when used.
import path from 'node:path';
import * as z from 'zod';
import type { CommandRegistrar, ShipgatePlugin } from '@shipgate/protocol';
import { ExitCode, ShipgateError } from '@shipgate/protocol';
import { defineStep, type StepDefinition } from '@shipgate/protocol';
import type { PgliteSqlClient } from './sql/client.js';

const dbTestInputs = z.strictObject({
  command: z.string().min(1).describe('What to run against the fresh database ($DATABASE_URL), e.g. npm run test:integration.'),
  migrations: z.string().optional().describe('Folder of SQL migrations (Flyway V1__x.sql or numbered 001_x.sql).'),
  migrate: z.string().optional().describe('Or a command that migrates $DATABASE_URL (prisma migrate deploy, knex migrate:latest, flyway migrate).'),
  inputs: z.array(z.string()).optional().describe('With migrate: globs of the files the command reads (they key the template). Default: the usual migrations folders and the files the command names.'),
  seed: z.string().optional().describe('Seed data: a .sql file, a folder of them, or a .ts/.js module.'),
  provider: z.enum(['pglite', 'postgres', 'testcontainers', 'url']).default('pglite').describe('Where the database lives: pglite (in-process, served on a loopback port), postgres (a server the harness starts), testcontainers (a Postgres container), url (an existing server).'),
  url: z.string().optional().describe('provider url: a server URL with the right to create databases (postgres:// or mysql://).'),
  'postgres-version': z.coerce.number().int().min(10).max(99).optional().describe("Production's Postgres major (e.g. 15): the server providers must run it; on pglite (Postgres 18) a warning says so."),
  engine: z.enum(['postgres', 'mariadb']).optional().describe('postgres (default), or mariadb (MariaDB / MySQL; provider testcontainers, or url with a mysql:// URL): DATABASE_URL is then mysql://…'),
});

/** The `db-test` step: runs `command` with DATABASE_URL set to a fresh, migrated, seeded database (actions/ calls it directly). */
export const dbTestStep = defineStep({
  name: 'db-test',
  description: 'Runs a command with DATABASE_URL set to a fresh, migrated, seeded database that is thrown away afterwards.',
  inputs: dbTestInputs,
  outputs: { database: 'the name of the database the command ran against' },
  async run(ctx) {
    const { prepareHarness, openHarness } = await import('./harness.js');
    const { servePglite } = await import('./providers/pglite.js');
    const { inputs } = ctx;
    const prepared = await prepareHarness({
      provider: inputs.provider,
      cwd: ctx.cwd,
      ...(inputs.migrations ? { migrations: inputs.migrations } : {}),
      ...(inputs.migrate ? { migrate: inputs.migrate } : {}),
      ...(inputs.inputs ? { inputs: inputs.inputs } : {}),
      ...(inputs.seed ? { seed: inputs.seed } : {}),
      ...(inputs.url ? { url: inputs.url } : {}),
      ...(inputs.engine ? { engine: inputs.engine } : {}),
      ...(inputs['postgres-version'] !== undefined ? { postgresVersion: inputs['postgres-version'] } : {}),
      isolation: 'file',
      poolSize: 0,
      log: (line) => ctx.logger.info(line),
    });
    const harness = openHarness(prepared.state);
    try {
      const db = await harness.acquire();
      let url = db.url;
      let served: { close(): Promise<void> } | undefined;
      if (!url) {
        const server = await servePglite(db.client as PgliteSqlClient);
        url = server.url;
        served = server;
      }
      ctx.setSecret(url);
      ctx.setOutput('database', db.name);
      ctx.logger.info(`${prepared.state.provider}: database ${db.name} ready (template ${prepared.state.built ? 'built' : 'reused'})`);
      try {
        const result = await ctx.process.shell(inputs.command, { env: { DATABASE_URL: url } });
        if (result.killed) return;
        if (result.exitCode !== 0) {
          throw new ShipgateError('step.exit-code', `${inputs.command} exited with code ${result.exitCode ?? result.signal}`, { exitCode: ExitCode.failed, hint: 'see the step log above for its output' });
        }
      } finally {
        await served?.close();
        await db.release();
      }
    } finally {
      await harness.close();
      await prepared.stop();
    }
  },
});

const registerDbCommands: CommandRegistrar = (program, io, setExitCode) => {
  const db = program.command('db').description('databases for tests: check migrations, seed and schema snapshot');
  db.command('check')
    .description('apply every migration from zero on a fresh database, load the seed, and compare the schema with the committed snapshot')
    .requiredOption('--migrations <dir>', 'folder of SQL migrations')
    .option('--seed <path>', 'seed: a .sql file, a folder of them, or a .ts/.js module')
    .option('--snapshot <file>', 'committed schema snapshot (default: schema.snapshot beside the migrations folder)')
    .option('--update', 'write the snapshot instead of comparing')
    .option('--provider <name>', 'pglite (default), postgres, testcontainers or url', 'pglite')
    .option('--url <url>', 'provider url: the server (default $SHIPGATE_TEST_DATABASE_URL)')
    .option('--postgres-version <major>', "production's Postgres major: server providers must run it; with pglite the migrations also run on a local server of that major (default $SHIPGATE_TEST_POSTGRES_VERSION)")
    .addHelpText('after', '\nExamples:\n  shipgate db check --migrations db/migrations --seed db/seed\n  shipgate db check --migrations db/migrations --seed db/seed --update   # after a reviewed schema change\n  shipgate db check --migrations db/migrations --postgres-version 15        # production runs Postgres 15\n')
    .action(async (opts: { migrations: string; seed?: string; snapshot?: string; update?: boolean; provider: string; url?: string; postgresVersion?: string }) => {
      if (!['pglite', 'postgres', 'testcontainers', 'url'].includes(opts.provider)) {
        throw new ShipgateError('cli.usage', `--provider must be pglite, postgres, testcontainers or url, got "${opts.provider}"`);
      }
      const { dbCheck } = await import('./check/db-check.js');
      const { parsePostgresVersion } = await import('./providers/postgres-version.js');
      const postgresVersion =
        opts.postgresVersion !== undefined ? parsePostgresVersion(opts.postgresVersion, '--postgres-version') : parsePostgresVersion(io.env.SHIPGATE_TEST_POSTGRES_VERSION, 'SHIPGATE_TEST_POSTGRES_VERSION');
      const directory = (program.opts() as { directory?: string }).directory;
      const cwd = directory ? path.resolve(io.cwd, directory) : io.cwd;
      const result = await dbCheck({
        migrations: opts.migrations,
        cwd,
        provider: opts.provider as 'pglite' | 'postgres' | 'testcontainers' | 'url',
        ...(opts.seed ? { seed: opts.seed } : {}),
        ...(opts.snapshot ? { snapshot: opts.snapshot } : {}),
        ...(opts.update ? { update: true } : {}),
        ...(opts.url ? { url: opts.url } : {}),
        ...(postgresVersion !== undefined ? { postgresVersion } : {}),
      });
      for (const warning of result.warnings) io.stderr.write(`shipgate: warning: ${warning}\n`);
      const tables = Object.entries(result.rows);
      const seeded = tables.filter(([, n]) => n > 0);
      io.stdout.write(`${result.migrations} migrations applied from zero on ${result.checkedOn.join(' and ')}; seed: ${seeded.reduce((s, [, n]) => s + n, 0)} rows in ${seeded.length} of ${tables.length} tables\n`);
      const rel = path.relative(cwd, result.snapshotFile);
      switch (result.snapshot) {
        case 'equal':
          io.stdout.write(`schema matches ${rel}\n`);
          break;
        case 'written':
          io.stdout.write(`wrote ${rel}\n`);
          break;
        case 'missing':
          io.stderr.write(`shipgate: no schema snapshot at ${rel} [db.snapshot-missing]\n  hint: run shipgate db check --update to create it, and commit it\n`);
          setExitCode(ExitCode.failed);
          break;
        case 'differs':
          io.stdout.write(result.diff ?? '');
          io.stderr.write(`shipgate: the schema the migrations produce differs from ${rel} [db.snapshot-drift]\n  hint: if the change is intended, run shipgate db check --update and commit ${rel} with the migration and its seed data\n`);
          setExitCode(ExitCode.failed);
          break;
      }
    });
};

const plugin: ShipgatePlugin = {
  name: '@shipgate/test-harness',
  steps: [dbTestStep as unknown as StepDefinition],
  commands: [registerDbCommands],
};

/** The plugin the shipgate CLI loads: the `db-test` step and the `shipgate db` commands. */
export default plugin;
