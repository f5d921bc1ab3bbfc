// Opening the app's data: the store (given, or opened from DATABASE_URL / the PGlite data
// directory, then migrated) and the durable inbox clicks wait in before their listeners run.
import path from 'node:path';
import type { Logger } from 'pino';
import { databaseInbox, FileInbox, type DurableInbox } from '../store/inbox.js';
import { openDatabase } from '../store/sql.js';
import { Store } from '../store/store.js';
import type { ShipgateAppOptions } from './options.js';

export interface OpenedStore {
  store: Store;
  /** The app opened the store, so it closes it too. */
  own: boolean;
  /** PGlite's data directory (when the app opened PGlite). */
  dataDir: string;
}

/** The given store, or one opened from the options; migrated either way. A store it opened is closed again if migrating fails. */
export async function openAppStore(options: Pick<ShipgateAppOptions, 'store' | 'databaseUrl' | 'dataDir'>, logger: Logger): Promise<OpenedStore> {
  const own = !options.store;
  const dataDir = options.dataDir ?? path.resolve('shipgate-data');
  const store = options.store ?? new Store(await openDatabase({ url: options.databaseUrl, dataDir }));
  try {
    const applied = await store.migrate();
    if (applied.length) logger.info({ migrations: applied, engine: store.db.engine }, 'store migrated');
  } catch (error) {
    if (own) await store.close().catch(() => undefined);
    throw error;
  }
  return { store, own, dataDir };
}

/**
 * The journal file beside PGlite's data when this app owns that data on disk (one process), else
 * the database's `inbox` table, held by `instance` with a lease.
 */
export async function openInbox(opened: OpenedStore, options: { inboxFile?: string | undefined; leaseSeconds: number; instance: string }): Promise<DurableInbox> {
  const { store, own, dataDir } = opened;
  const inboxFile = options.inboxFile ?? (own && store.db.engine === 'pglite' && !dataDir.startsWith('memory://') ? path.join(dataDir, 'inbox.jsonl') : undefined);
  return inboxFile ? new FileInbox(inboxFile) : databaseInbox(store.inbox, options.instance, options.leaseSeconds);
}
