// After the workspace's whole test run (a jest global tear-down): nothing of the harness is left that
// the next run would not reap. The next run reaps what sits in the default cluster folder (a server
// whose owner is gone, throw-away clusters of dead runs), databases whose name carries a dead owner,
// and labelled containers of dead owners. What it would never find: a server or a cluster folder
// in a temp folder a test made (no later run looks there), a server whose data directory is gone,
// a harness container without its owner label. In CI that fails the run; on a workstation shared
// with other runs it is a warning, since their temp folders look the same.
//
// Jest loads a global tear-down outside its module mapping, so this file imports only node's own
// modules (the two facts it shares with the harness are restated: the container label, the folders).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const containerLabel = 'dev.shipgate.test-harness'; // providers/testcontainers.ts

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Folders a later run of the harness looks in: the default cluster folders (providers/postgres.ts). */
function reapedFolders(): string[] {
  const uid = process.getuid?.() ?? 'user';
  return ['/dev/shm', os.tmpdir()].map((root) => path.join(root, `shipgate-test-harness-${uid}`));
}

const inside = (dir: string, roots: string[]) => roots.some((r) => dir === r || dir.startsWith(r + path.sep));

function ownerAlive(clusterDir: string): boolean {
  const run = /-run-(\d+)$/.exec(clusterDir);
  if (run) return alive(Number(run[1]));
  try {
    const owner = JSON.parse(readFileSync(path.join(clusterDir, 'shipgate-owner.json'), 'utf8')) as { pid?: number };
    return owner.pid !== undefined && alive(owner.pid);
  } catch {
    return false;
  }
}

/** Running Postgres servers of harness clusters (a `claim.lock` beside their data directory). */
function harnessServers(): Array<{ pid: number; dataDir: string }> {
  if (!existsSync('/proc')) return [];
  const found: Array<{ pid: number; dataDir: string }> = [];
  for (const entry of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    let args: string[];
    try {
      args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    const d = args.indexOf('-D');
    if (d < 0 || !path.basename(args[0] ?? '').startsWith('postgres')) continue;
    const dataDir = args[d + 1] ?? '';
    if (existsSync(path.join(path.dirname(dataDir), 'claim.lock')) || !existsSync(dataDir)) found.push({ pid: Number(entry), dataDir });
  }
  return found;
}

/** Cluster folders left in the temp folders tests make (`sg-th-…`), whose owner is gone. */
function clustersInTempFolders(): string[] {
  const left: string[] = [];
  const tmp = os.tmpdir();
  for (const top of readdirSync(tmp).filter((n) => n.startsWith('sg-th-'))) {
    const walk = (dir: string, depth: number) => {
      let names: string[];
      try {
        names = readdirSync(dir);
      } catch {
        return;
      }
      if (names.includes('claim.lock') && !ownerAlive(dir)) left.push(dir);
      else if (depth < 3) for (const n of names) if (statSync(path.join(dir, n), { throwIfNoEntry: false })?.isDirectory()) walk(path.join(dir, n), depth + 1);
    };
    walk(path.join(tmp, top), 0);
  }
  return left;
}

/** Harness containers the next run could not attribute (no owner pid label). */
function unattributedContainers(): string[] {
  const r = spawnSync('docker', ['ps', '-a', '--filter', `label=${containerLabel}`, '--format', `{{.Names}} {{.Label "${containerLabel}.pid"}}`], { encoding: 'utf8', timeout: 20_000 });
  if (r.status !== 0) return [];
  return r.stdout.split('\n').filter(Boolean).filter((l) => !/ \d+$/.test(l)).map((l) => l.trim());
}

export function findLeftovers(): string[] {
  const roots = reapedFolders();
  const problems: string[] = [];
  for (const s of harnessServers()) {
    const cluster = path.dirname(s.dataDir);
    if (!existsSync(s.dataDir)) problems.push(`Postgres server ${s.pid} runs from ${s.dataDir}, which no longer exists`);
    else if (!inside(cluster, roots) && !ownerAlive(cluster)) problems.push(`Postgres server ${s.pid} of ${cluster}: its run is gone, and no later run looks there`);
  }
  for (const dir of clustersInTempFolders()) problems.push(`cluster folder ${dir}: its run is gone, and no later run looks there`);
  for (const c of unattributedContainers()) problems.push(`container ${c}: labelled by the harness without an owner`);
  return problems;
}

/** The workspace's jest global tear-down. */
export default function checkLeftovers(): void {
  const problems = findLeftovers();
  if (!problems.length) return;
  const text = `test-harness: left after the test run, and the next run would not reap it:\n${problems.map((p) => `  - ${p}`).join('\n')}`;
  if (process.env.CI === 'true') throw new Error(text);
  process.stderr.write(`warning: ${text}\n`);
}
