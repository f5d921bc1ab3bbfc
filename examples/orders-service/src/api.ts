// Entry point of the API process: PORT (0 = any free port) on HOST (default 127.0.0.1). Orders live
// in Postgres when DATABASE_URL is set (migrated with db/migrations), in memory otherwise.
import pg from 'pg';
import { createApp } from './app.js';
import { PgOrderStore } from './pg-store.js';
import { MemoryOrderStore, type OrderStore } from './store.js';

const port = Number(process.env.PORT ?? 3000);
const host = process.env.HOST ?? '127.0.0.1';
const pool = process.env.DATABASE_URL ? new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 5 }) : undefined;
const store: OrderStore = pool ? new PgOrderStore(pool) : new MemoryOrderStore();
const server = createApp(store);
server.listen(port, host, () => {
  const address = server.address();
  const actual = typeof address === 'object' && address ? address.port : port;
  console.log(`orders-service listening on http://${host}:${actual} (${pool ? 'postgres' : 'in-memory'} store)`);
});
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => server.close(() => void (pool?.end() ?? Promise.resolve()).then(() => process.exit(0))));
}
