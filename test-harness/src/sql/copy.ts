// `COPY … FROM stdin` with its data, on each kind of client: node-postgres speaks the COPY
// sub-protocol through pg-copy-streams (the data goes in large CopyData messages, as psql sends
// it); PGlite reads the same data from a Blob it mounts as the file /dev/blob.
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import copyStreams from 'pg-copy-streams';
import { ShipgateError } from '@shipgate/protocol';
import { PgliteSqlClient, PgSqlClient, type SqlClient } from './client.js';

/** Runs `statement` (a `COPY … FROM stdin`) with `data` (text lines, without the `\.` line). */
export async function copyFromStdin(client: SqlClient, statement: string, data: string): Promise<void> {
  if (client instanceof PgSqlClient) {
    const stream = client.client.query(copyStreams.from(statement));
    await pipeline(Readable.from(chunks(data)), stream);
    return;
  }
  if (client instanceof PgliteSqlClient) {
    const fromBlob = statement.replace(/\bFROM\s+p?stdin\b/i, "FROM '/dev/blob'");
    await client.db.query(fromBlob, [], { blob: new Blob([data]) });
    return;
  }
  throw new ShipgateError('db.copy', 'COPY … FROM stdin needs a Postgres client (node-postgres or PGlite)', { hint: 'load the data with INSERT statements, or use a Postgres provider' });
}

/** The data in pieces of about 1 MB (whole lines), encoded once: a large table streams instead of being one huge message. */
function* chunks(data: string): Generator<Buffer> {
  const bytes = Buffer.from(data, 'utf8');
  const size = 1 << 20;
  for (let at = 0; at < bytes.length; ) {
    let end = Math.min(bytes.length, at + size);
    const nl = bytes.indexOf(0x0a, end);
    end = nl === -1 ? bytes.length : nl + 1;
    yield bytes.subarray(at, end);
    at = end;
  }
}
