// The name of every database the harness creates on a server carries its owner: this machine, the
// process, the run, and a checksum. CREATE DATABASE cannot run in a transaction with anything else
// (a COMMENT, a registry row), so the name is the only mark that exists the instant the database
// does: a SIGKILL at any moment leaves nothing the reaper cannot attribute. The checksum keeps a
// database someone named like ours by hand from ever being taken for one of ours.
import { createHash } from 'node:crypto';

export const markedPrefix = 'shipgate_t_';

export interface DatabaseOwner {
  /** Short tag of the machine (hostTag). */
  host: string;
  pid: number;
  /** The run (lower-case letters and digits). */
  run: string;
  /** What it is within the run: a clone number, `b<n>` for a template build, `check`. */
  what: string;
}

const shape = /^shipgate_t_([0-9a-f]{6})_(\d+)_([0-9a-z]{1,16})_([0-9a-z]{1,8})_([0-9a-f]{8})$/;

function checksum(body: string): string {
  return createHash('sha256').update(`shipgate-test-harness:${body}`).digest('hex').slice(0, 8);
}

/** `shipgate_t_<host>_<pid>_<run>_<what>_<checksum>`: at most 57 characters (Postgres allows 63). */
export function markedName(owner: DatabaseOwner): string {
  const body = `${markedPrefix}${owner.host}_${owner.pid}_${owner.run}_${owner.what}`;
  if (!shape.test(`${body}_00000000`)) throw new Error(`cannot mark a database name with ${JSON.stringify(owner)}`);
  return `${body}_${checksum(body)}`;
}

/** The owner a database name carries, or undefined when it is not a name the harness made. */
export function ownerOf(name: string): DatabaseOwner | undefined {
  const m = shape.exec(name);
  if (!m || checksum(name.slice(0, -9)) !== m[5]) return undefined;
  return { host: m[1]!, pid: Number(m[2]), run: m[3]!, what: m[4]! };
}
