// The `shipgate-bolt` command (bin/shipgate-bolt.js imports this file): runs the app until
// SIGTERM or SIGINT. See run.ts for the environment it reads and its exit codes.
import { runShipgateBolt } from './run.js';

const stop = new AbortController();
process.once('SIGTERM', () => stop.abort());
process.once('SIGINT', () => stop.abort());
process.exitCode = await runShipgateBolt({ signal: stop.signal });
