// Entry point of the API process: PORT (0 = any free port) on HOST (default 127.0.0.1).
import { createApp } from './app.js';
import { MemoryOrderStore } from './store.js';

const port = Number(process.env.PORT ?? 3000);
const host = process.env.HOST ?? '127.0.0.1';
const server = createApp(new MemoryOrderStore());
server.listen(port, host, () => {
  const address = server.address();
  const actual = typeof address === 'object' && address ? address.port : port;
  console.log(`orders-service listening on http://${host}:${actual}`);
});
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => server.close(() => process.exit(0)));
