// Small facts about this machine the providers share: a free loopback port, and waiting for a
// server to take connections.
import { createServer } from 'node:net';

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * Polls `connect` until a connection succeeds (it is closed at once) or `timeoutMs` passes.
 * `check` runs before each try and may throw to stop early (the server exited). Returns whether
 * it connected.
 */
export async function waitForConnection(connect: () => Promise<{ close(): Promise<void> }>, timeoutMs: number, check?: () => void): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    check?.();
    const client = await connect().catch(() => undefined);
    if (client) {
      await client.close();
      return true;
    }
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
}
