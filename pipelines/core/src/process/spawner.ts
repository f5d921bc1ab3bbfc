// Starting children from small helper processes. To start a child, Node forks the calling
// process, and the fork costs time in proportion to the caller's memory: about 3 ms for the engine
// (110 MB resident) against about 1.5 ms for a bare Node process (measured on 2 CPUs), and it
// blocks the caller's event loop meanwhile. When dozens of steps become ready at once, those
// milliseconds queue up in front of the step on the critical path, and in front of noticing that
// a running step has finished. So the engine hands spawning to two lean helper processes
// ("spawners") that fork in parallel, while its own thread keeps scheduling.
//
// A spawner only starts children and relays their output and exit over IPC. The engine still owns
// them: it knows their pids and signals their process groups itself. Until a spawner has reported
// ready (its start takes ~40 ms), and if one dies, children are started directly as before.
// SHIPGATE_SPAWNER=0 turns the helpers off.
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';

/**
 * The part of a child process the process runner uses. It emits 'spawn' once its pid is known,
 * 'stdout' / 'stderr' (UTF-8 text), 'error' (Error), and last 'close' (code, signal).
 */
export interface SpawnedChild extends EventEmitter {
  /** Known once started (undefined until then, and if it could not start). */
  readonly pid: number | undefined;
}

export interface SpawnRequest {
  command: string;
  args: readonly string[];
  cwd: string;
  env: Record<string, string>;
  input?: string;
}

/**
 * Starts one child in its own process group and relays what it does to `emit`: 'stdout' /
 * 'stderr' (text), 'error' (message), 'close' (code, signal). Used here (direct start) and, as
 * source text, inside the helpers, so it may use nothing but its arguments.
 */
function startChild(spawnChild: typeof spawn, m: SpawnRequest, emit: (event: string, ...args: unknown[]) => void): number | undefined {
  const child = spawnChild(m.command, [...m.args], { cwd: m.cwd, env: m.env, detached: true, stdio: [m.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
  child.stdout!.setEncoding('utf8').on('data', (d: string) => emit('stdout', d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => emit('stderr', d));
  if (m.input !== undefined && child.stdin) {
    child.stdin.on('error', () => {}); // the child may exit without reading its input
    child.stdin.end(m.input);
  }
  child.on('error', (e: Error) => emit('error', e.message));
  child.on('close', (code: number | null, signal: NodeJS.Signals | null) => emit('close', code, signal));
  return child.pid;
}

// The helper: CommonJS, node: modules only, run with `node -e` (no file to find, bundles keep working).
const helperSource = `
const { spawn } = require('node:child_process');
const startChild = ${startChild.toString()};
process.on('message', (m) => {
  if (m.t !== 'spawn') return;
  const send = (event, ...args) => {
    if (event === 'stdout' || event === 'stderr') process.send({ t: 'out', id: m.id, s: event === 'stdout' ? 1 : 2, d: args[0] });
    else if (event === 'error') process.send({ t: 'error', id: m.id, message: args[0] });
    else process.send({ t: 'close', id: m.id, code: args[0], signal: args[1] });
  };
  let pid;
  try {
    pid = startChild(spawn, m, send);
  } catch (e) {
    send('error', e.message);
    send('close', null, null);
    return;
  }
  if (pid !== undefined) process.send({ t: 'spawned', id: m.id, pid });
});
process.on('disconnect', () => process.exit(0));
// A run shorter than the helper's start-up has exited before 'ready' is sent: the send fails with
// EPIPE, which would print a stack trace into the run's log. Without the engine there is nothing to do.
process.on('error', () => process.exit(0));
process.send({ t: 'ready' });
`;

type Message =
  | { t: 'ready' }
  | { t: 'spawned'; id: number; pid: number }
  | { t: 'out'; id: number; s: 1 | 2; d: string }
  | { t: 'error'; id: number; message: string }
  | { t: 'close'; id: number; code: number | null; signal: NodeJS.Signals | null };

class RelayedChild extends EventEmitter implements SpawnedChild {
  pid: number | undefined;
}

class Spawner {
  readonly process: ChildProcess;
  ready = false;
  dead = false;
  /** Children started here and not closed yet. */
  readonly live = new Map<number, RelayedChild>();
  /** Spawn requests sent and not yet acknowledged (the helper's queue). */
  starting = 0;

  constructor() {
    this.process = spawn(process.execPath, ['--max-semi-space-size=1', '-e', helperSource], {
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      serialization: 'advanced',
      env: { PATH: process.env.PATH ?? '' },
    });
    this.process.on('message', (m: Message) => this.#onMessage(m));
    this.process.on('error', () => this.#die());
    this.process.on('exit', () => this.#die());
    this.process.on('disconnect', () => this.#die());
    this.#idle();
  }

  #onMessage(m: Message): void {
    if (m.t === 'ready') {
      this.ready = true;
      return;
    }
    const child = this.live.get(m.id);
    if (!child) return;
    switch (m.t) {
      case 'spawned':
        this.starting -= 1;
        child.pid = m.pid;
        child.emit('spawn');
        break;
      case 'out':
        child.emit(m.s === 1 ? 'stdout' : 'stderr', m.d);
        break;
      case 'error':
        if (child.pid === undefined) this.starting -= 1;
        child.emit('error', new Error(m.message));
        break;
      case 'close':
        this.live.delete(m.id);
        child.emit('close', m.code, m.signal);
        if (this.live.size === 0) this.#idle();
        break;
    }
  }

  /** A spawner with no children must not keep the engine's process alive. */
  #idle(): void {
    this.process.unref();
    (this.process.channel as { unref?: () => void } | undefined)?.unref?.();
  }

  #busy(): void {
    this.process.ref();
    (this.process.channel as { ref?: () => void } | undefined)?.ref?.();
  }

  #die(): void {
    if (this.dead) return;
    this.dead = true;
    for (const [id, child] of this.live) {
      this.live.delete(id);
      // its exit can no longer be observed: stop the child's whole group rather than leave it behind
      if (child.pid !== undefined) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      child.emit('error', new Error('the process that started this step exited'));
      child.emit('close', null, null);
    }
  }

  spawn(id: number, request: SpawnRequest, child: RelayedChild): void {
    this.live.set(id, child);
    this.starting += 1;
    this.#busy();
    this.process.send({ t: 'spawn', id, ...request, args: [...request.args] }, (error: Error | null) => {
      // the helper never got it (it died a moment ago): start the child here instead
      if (!error || this.live.get(id) !== child || child.pid !== undefined) return;
      this.live.delete(id);
      this.starting -= 1;
      direct(request, child);
      if (child.pid !== undefined) child.emit('spawn'); // a stop() that came meanwhile is waiting for it
    });
  }
}

const helpers: Spawner[] = [];
let nextId = 0;
const helperCount = Math.max(1, Math.min(8, Number(process.env.SHIPGATE_SPAWNERS ?? 2)));

function enabled(): boolean {
  return process.env.SHIPGATE_SPAWNER !== '0' && process.platform !== 'win32';
}

/** Starts a child in its own process group: through the least busy ready spawner, or here. */
export function spawnChild(request: SpawnRequest): SpawnedChild {
  const relay = new RelayedChild();
  if (enabled()) {
    for (let i = helpers.length - 1; i >= 0; i -= 1) if (helpers[i]!.dead) helpers.splice(i, 1);
    while (helpers.length < helperCount) helpers.push(new Spawner());
    const ready = helpers.filter((h) => h.ready && !h.dead && h.process.connected);
    if (ready.length) {
      const least = ready.reduce((a, b) => (b.starting < a.starting ? b : a));
      least.spawn((nextId += 1), request, relay);
      return relay;
    }
  }
  direct(request, relay);
  return relay;
}

function direct(request: SpawnRequest, relay: RelayedChild): void {
  relay.pid = startChild(spawn, request, (event, ...args) => (event === 'error' ? relay.emit('error', new Error(String(args[0]))) : relay.emit(event, ...args)));
}

/** The spawners of this process: pids, and how many are ready (for tests and diagnostics). */
export function spawnerState(): { pids: number[]; ready: number } {
  const live = helpers.filter((h) => !h.dead);
  return { pids: live.map((h) => h.process.pid!).filter((p) => p !== undefined), ready: live.filter((h) => h.ready).length };
}

/** Stops the spawners (tests; a process that ends does not need to). */
export function stopSpawners(): void {
  for (const h of helpers.splice(0)) h.process.kill();
}
