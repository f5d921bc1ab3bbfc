// The `testcontainers` provider: a Postgres server in a container started through Testcontainers.
// With host networking (the default) the server listens on a free loopback port of this machine,
// so test traffic never leaves 127.0.0.1. Containers are labelled with this machine's tag and the
// owning pid; a container whose owner died (a killed run) is removed at the next start. Ryuk, the
// Testcontainers reaper, is turned off unless asked for: its image must be pulled, and the labels
// do its job here.
import { randomBytes } from 'node:crypto';
import { ExitCode, ShipgateError } from '@shipgate/protocol';
import { hostTag, type DatabaseServer } from './server.js';
import { PgSqlClient } from '../sql/client.js';
import { alive } from '../lifecycle/processes.js';
import { freePort, waitForConnection } from './local.js';
import { MysqlSqlClient } from '../sql/mysql.js';
import { importOptional } from '../optional.js';

export const defaultImage = 'shipgate/postgres:15-bookworm';
export const defaultMariadbImage = 'shipgate/mariadb:10.11-bookworm';
export const containerLabel = 'dev.shipgate.test-harness';

export interface ContainerServerOptions {
  /** postgres (default) or mariadb. */
  engine?: 'postgres' | 'mariadb';
  /** Image to run. Default $SHIPGATE_TEST_PG_IMAGE or shipgate/postgres:15-bookworm (built by scripts/build-postgres-image.sh). */
  image?: string;
  /** host (default): the server listens on a loopback port of this machine. bridge: a mapped port (Docker Desktop). */
  network?: 'host' | 'bridge';
  startTimeoutMs?: number;
  log?: (line: string) => void;
}

type Testcontainers = typeof import('testcontainers');
type ContainerRuntimeClient = Awaited<ReturnType<Testcontainers['getContainerRuntimeClient']>>;

async function loadTestcontainers(): Promise<Testcontainers> {
  process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';
  // A local engine is reached on loopback. Without this Testcontainers looks for the default bridge
  // network's gateway, which an engine run without a bridge (as in CI here) does not have.
  if (!process.env.DOCKER_HOST || process.env.DOCKER_HOST.startsWith('unix:')) process.env.TESTCONTAINERS_HOST_OVERRIDE ??= '127.0.0.1';
  return importOptional(() => import('testcontainers'), 'db.testcontainers-missing', 'the testcontainers provider', 'testcontainers');
}

/** Removes this machine's harness containers whose owning process is gone. Returns their names. */
export async function reapContainers(client: ContainerRuntimeClient): Promise<string[]> {
  const containers = await client.container.dockerode.listContainers({ all: true, filters: { label: [`${containerLabel}=${hostTag}`] } });
  const removed: string[] = [];
  for (const info of containers) {
    const pid = Number(info.Labels[`${containerLabel}.pid`]);
    if (pid === process.pid || (pid && alive(pid))) continue; // ours, or its owner still runs
    await client.container.dockerode.getContainer(info.Id).remove({ force: true, v: true });
    removed.push((info.Names[0] ?? info.Id).replace(/^\//, ''));
  }
  return removed;
}

export async function startContainerServer(options: ContainerServerOptions = {}): Promise<DatabaseServer> {
  const tc = await loadTestcontainers();
  const image = options.image ?? (options.engine === 'mariadb' ? (process.env.SHIPGATE_TEST_MARIADB_IMAGE ?? defaultMariadbImage) : (process.env.SHIPGATE_TEST_PG_IMAGE ?? defaultImage));
  const network = options.network ?? (process.env.SHIPGATE_TEST_CONTAINER_NETWORK as 'host' | 'bridge' | undefined) ?? 'host';
  let client: ContainerRuntimeClient;
  try {
    client = await tc.getContainerRuntimeClient();
  } catch (error) {
    throw new ShipgateError('db.docker-unavailable', `no container runtime answers: ${(error as Error).message}`, {
      hint: 'start Docker (or set DOCKER_HOST), or use provider pglite or postgres',
      exitCode: ExitCode.external,
    });
  }
  const reaped = await reapContainers(client);
  if (reaped.length) options.log?.(`removed ${reaped.length} container(s) left by killed runs: ${reaped.join(', ')}`);
  if (!(await client.image.exists(tc.ImageName.fromString(image)))) {
    throw new ShipgateError('db.image-missing', `the image ${image} is not on this machine`, {
      hint:
        image === defaultImage
          ? 'build it: bash test-harness/scripts/build-postgres-image.sh (Debian packages, no registry)'
          : image === defaultMariadbImage
            ? 'build it: bash test-harness/scripts/build-mariadb-image.sh (Debian packages, no registry)'
            : `docker pull ${image}, or build it`,
      exitCode: ExitCode.external,
    });
  }

  const password = randomBytes(18).toString('base64url');
  const mariadb = options.engine === 'mariadb';
  const internalPort = mariadb ? 3306 : 5432;
  const port = network === 'host' ? await freePort() : internalPort;
  let container = new tc.GenericContainer(image)
    .withName(`shipgate-${mariadb ? 'maria' : 'pg'}-${hostTag}-${process.pid}-${randomBytes(3).toString('hex')}`)
    .withLabels({ [containerLabel]: hostTag, [`${containerLabel}.pid`]: String(process.pid) })
    .withStartupTimeout(options.startTimeoutMs ?? 60_000);
  container = mariadb
    ? container
        .withEnvironment({ MARIADB_ROOT_PASSWORD: password, PORT: String(port), LISTEN: network === 'host' ? '127.0.0.1' : '0.0.0.0' })
        // tables in the system tablespace: a clone creates no file per table
        .withCommand(['--innodb-flush-log-at-trx-commit=0', '--sync-binlog=0', '--innodb-doublewrite=0', '--innodb-file-per-table=0', '--max-connections=300'])
        .withTmpFs({ '/var/lib/mysql': 'rw' })
        .withWaitStrategy(tc.Wait.forLogMessage(/ready for connections/))
    : container
        .withEnvironment({ POSTGRES_PASSWORD: password, PGPORT: String(port), LISTEN: network === 'host' ? '127.0.0.1' : '*' })
        .withCommand(['-c', 'fsync=off', '-c', 'full_page_writes=off', '-c', 'synchronous_commit=off', '-c', 'max_connections=300'])
        .withTmpFs({ '/var/lib/postgresql/data': 'rw' })
        .withWaitStrategy(tc.Wait.forLogMessage(/database system is ready to accept connections/));
  container = network === 'host' ? container.withNetworkMode('host') : container.withExposedPorts(internalPort);
  options.log?.(`starting ${image} (${network} network)`);
  let started: Awaited<ReturnType<typeof container.start>>;
  try {
    started = await container.start();
  } catch (error) {
    throw new ShipgateError('db.container-start', `the ${mariadb ? 'MariaDB' : 'Postgres'} container did not start: ${(error as Error).message}`, { exitCode: ExitCode.external });
  }
  const host = network === 'host' ? '127.0.0.1' : started.getHost();
  const mapped = network === 'host' ? port : started.getMappedPort(internalPort);
  const adminUrl = mariadb ? `mysql://root:${encodeURIComponent(password)}@${host}:${mapped}/` : `postgres://postgres:${encodeURIComponent(password)}@${host}:${mapped}/postgres`;
  try {
    // the log line comes a moment before connections are accepted on every interface
    const connect = mariadb ? () => MysqlSqlClient.connect(adminUrl, { connectTimeoutMs: 2000 }) : () => PgSqlClient.connect(adminUrl, { connectTimeoutMs: 2000 });
    if (!(await waitForConnection(connect, 10_000))) {
      throw new ShipgateError('db.container-start', 'the database container did not accept connections within 10 s', { exitCode: ExitCode.external });
    }
  } catch (error) {
    await started.stop({ remove: true }).catch(() => undefined);
    throw error;
  }
  const versionText = (await started.exec(mariadb ? ['mariadbd', '--version'] : ['postgres', '--version'])).output.trim();
  return {
    provider: 'testcontainers',
    engine: mariadb ? 'mariadb' : 'postgres',
    adminUrl,
    version: versionText,
    async stop() {
      await started.stop({ remove: true, removeVolumes: true });
    },
  };
}
