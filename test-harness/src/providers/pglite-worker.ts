// A PGlite database in a worker thread, for test runners whose sandbox cannot load PGlite: jest
// without ESM (a CommonJS project, no --experimental-vm-modules) gives PGlite no dynamic import(),
// which it needs to load its WASM. A worker thread is plain Node, outside the sandbox. It loads a
// template dump and answers query / exec / close messages.
import { readFile } from 'node:fs/promises';
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';

interface Request {
  id: number;
  op: 'query' | 'exec' | 'close';
  sql?: string;
  params?: unknown[];
}

const port = parentPort!;
const db = await PGlite.create({ loadDataDir: new Blob([await readFile((workerData as { templateFile: string }).templateFile)]) });

port.on('message', (request: Request) => {
  void answer(request);
});
port.postMessage({ ready: true });

async function answer({ id, op, sql, params }: Request): Promise<void> {
  try {
    if (op === 'query') port.postMessage({ id, rows: (await db.query(sql!, params ?? [])).rows });
    else if (op === 'exec') {
      await db.exec(sql!);
      port.postMessage({ id });
    } else {
      await db.close();
      port.postMessage({ id });
    }
  } catch (error) {
    const e = error as Record<string, unknown>;
    port.postMessage({ id, error: { message: String(e.message ?? error), code: e.code, position: e.position, detail: e.detail, hint: e.hint, where: e.where } });
  }
}
