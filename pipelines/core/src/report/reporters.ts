// How a run looks while it happens. Three reporters over the same events:
//  - tty: a live view of the running steps with elapsed time (log-update), finished steps above it;
//  - plain: prefixed lines, no escape codes — for CI logs and pipes;
//  - github: plain, with each step's output folded into a ::group:: and failures as ::error annotations.
import type { Writable } from 'node:stream';
import { stripVTControlCharacters } from 'node:util';
import type { InvocationOutcome, RunEvent } from '../scheduler/events.js';
import { formatDuration, outcomeStyle, outcomeSymbol, paint, totalsLine, type RunTotals } from './format.js';

export interface Reporter {
  onEvent(event: RunEvent): void;
  /** Stops timers and flushes; called once after run-end (or on an error). */
  close(): void;
}

export type ReporterKind = 'tty' | 'plain' | 'github';

export interface ReporterOptions {
  stream: Writable;
  color?: boolean;
  /** Show debug lines. */
  verbose?: boolean;
}

/**
 * The environment for steps whose output goes to a log (plain, github reporters): tools that
 * honour NO_COLOR / FORCE_COLOR (chalk, vitest, eslint, npm, …) write no colour codes. A value the
 * user set stays. The reporters also strip escape codes from what still has them.
 */
export function colourlessEnv(env: Readonly<Record<string, string | undefined>>): Record<string, string | undefined> {
  const set = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined));
  return { NO_COLOR: '1', FORCE_COLOR: '0', ...set };
}

export function chooseReporterKind(env: Readonly<Record<string, string | undefined>>, isTTY: boolean): ReporterKind {
  if (env.GITHUB_ACTIONS === 'true') return 'github';
  return isTTY ? 'tty' : 'plain';
}

/** A reporter of that kind. Async because the live view's terminal library loads only when used. */
export async function createReporter(kind: ReporterKind, options: ReporterOptions): Promise<Reporter> {
  switch (kind) {
    case 'tty': {
      const { createLogUpdate } = await import('log-update');
      return new TtyReporter(options, createLogUpdate);
    }
    case 'github':
      return new GitHubReporter(options);
    case 'plain':
      return new PlainReporter(options);
  }
}

class Totals {
  readonly value: RunTotals = { succeeded: 0, cached: 0, failed: 0, skipped: 0, cancelled: 0 };
  add(outcome: InvocationOutcome): void {
    if (outcome === 'success') this.value.succeeded += 1;
    else if (outcome === 'cached') this.value.cached += 1;
    else if (outcome === 'failure' || outcome === 'timed-out') this.value.failed += 1;
    else if (outcome === 'cancelled') this.value.cancelled += 1;
    else this.value.skipped += 1;
  }
}

function endLine(event: Extract<RunEvent, { type: 'step-end' }>): string {
  const took = event.outcome === 'skipped' || event.outcome === 'cached' ? '' : ` in ${formatDuration(event.durationMs)}`;
  const attempts = event.attempts > 1 ? ` after ${event.attempts} attempts` : '';
  const why = event.result?.error ? `: ${event.result.error.message}` : event.reason ? `: ${event.reason}` : '';
  const hint = event.result?.error?.hint ? ` (hint: ${event.result.error.hint})` : '';
  return `${event.outcome}${took}${attempts}${why}${hint}`;
}

function runEndLine(event: Extract<RunEvent, { type: 'run-end' }>, pipeline: string, totals: RunTotals): string {
  return `${pipeline}: ${event.outcome} in ${formatDuration(event.durationMs)} — ${totalsLine(totals)}`;
}

/** Prefixed lines: `[build[target=api]] compiling…`. */
export class PlainReporter implements Reporter {
  readonly #out: Writable;
  readonly #verbose: boolean;
  readonly #totals = new Totals();
  #pipeline = '';

  constructor(options: ReporterOptions) {
    this.#out = options.stream;
    this.#verbose = options.verbose ?? false;
  }

  onEvent(event: RunEvent): void {
    switch (event.type) {
      case 'run-start':
        this.#pipeline = event.pipeline;
        this.#write(`${event.pipeline}: ${event.invocations.length} step invocations`);
        break;
      case 'step-start':
        this.#write(`[${event.id}] started${event.attempt > 1 ? ` (attempt ${event.attempt})` : ''}`);
        break;
      case 'step-log':
        if (event.level === 'debug' && !this.#verbose) return;
        this.#write(`[${event.id}] ${stripVTControlCharacters(event.line)}`);
        break;
      case 'step-retry':
        this.#write(`[${event.id}] attempt ${event.attempt - 1} failed (${event.reason}); retrying in ${formatDuration(event.delayMs)}`);
        break;
      case 'step-end':
        this.#totals.add(event.outcome);
        this.#write(`[${event.id}] ${outcomeSymbol[event.outcome]} ${endLine(event)}`);
        break;
      case 'run-end':
        this.#write(runEndLine(event, this.#pipeline, this.#totals.value));
        break;
    }
  }

  close(): void {}

  #write(line: string): void {
    this.#out.write(`${line}\n`);
  }
}

/**
 * GitHub Actions log: groups cannot interleave, so each invocation's lines are held and written as
 * one ::group:: when it ends. Failures also become ::error annotations on the run page.
 */
export class GitHubReporter implements Reporter {
  readonly #out: Writable;
  readonly #verbose: boolean;
  readonly #buffers = new Map<string, string[]>();
  readonly #totals = new Totals();
  #pipeline = '';

  constructor(options: ReporterOptions) {
    this.#out = options.stream;
    this.#verbose = options.verbose ?? false;
  }

  onEvent(event: RunEvent): void {
    switch (event.type) {
      case 'run-start':
        this.#pipeline = event.pipeline;
        break;
      case 'step-start':
        if (event.attempt > 1) this.#buffer(event.id).push(`--- attempt ${event.attempt} ---`);
        break;
      case 'step-log':
        if (event.level === 'debug' && !this.#verbose) return;
        this.#buffer(event.id).push(stripVTControlCharacters(event.line));
        break;
      case 'step-retry':
        this.#buffer(event.id).push(`attempt ${event.attempt - 1} failed (${event.reason}); retrying in ${formatDuration(event.delayMs)}`);
        break;
      case 'step-end': {
        this.#totals.add(event.outcome);
        const lines = this.#buffers.get(event.id) ?? [];
        this.#buffers.delete(event.id);
        const title = `${outcomeSymbol[event.outcome]} ${event.id}: ${endLine(event)}`;
        if (lines.length === 0) {
          this.#out.write(`${title}\n`);
        } else {
          this.#out.write(`::group::${title}\n${lines.join('\n')}\n::endgroup::\n`);
        }
        if (event.outcome === 'failure' || event.outcome === 'timed-out') {
          const message = event.result?.error?.message ?? event.reason ?? event.outcome;
          this.#out.write(`::error title=${escapeProperty(`shipgate: ${event.id} ${event.outcome}`)}::${escapeData(message)}\n`);
        }
        break;
      }
      case 'run-end':
        this.#out.write(`${runEndLine(event, this.#pipeline, this.#totals.value)}\n`);
        break;
    }
  }

  close(): void {}

  #buffer(id: string): string[] {
    let lines = this.#buffers.get(id);
    if (!lines) this.#buffers.set(id, (lines = []));
    return lines;
  }
}

// Workflow-command escaping as @actions/core does it.
function escapeData(s: string): string {
  return s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}
function escapeProperty(s: string): string {
  return escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

type CreateLogUpdate = typeof import('log-update').createLogUpdate;
type LogUpdate = ReturnType<CreateLogUpdate>;

const spinnerFrames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** Live terminal view: finished steps scroll above; running ones are redrawn with elapsed time and their last line. */
export class TtyReporter implements Reporter {
  readonly #out: Writable & { columns?: number };
  readonly #color: boolean;
  readonly #update: LogUpdate;
  readonly #running = new Map<string, { startedAt: number; lastLine: string; attempt: number }>();
  readonly #logs = new Map<string, string[]>();
  readonly #totals = new Totals();
  #timer: NodeJS.Timeout | undefined;
  #frame = 0;
  #pipeline = '';
  #planned = 0;
  #done = 0;

  constructor(options: ReporterOptions, createLogUpdate: CreateLogUpdate) {
    this.#out = options.stream;
    this.#color = options.color ?? true;
    this.#update = createLogUpdate(this.#out as NodeJS.WriteStream, { showCursor: true });
  }

  onEvent(event: RunEvent): void {
    switch (event.type) {
      case 'run-start':
        this.#pipeline = event.pipeline;
        this.#planned = event.invocations.length;
        this.#timer = setInterval(() => this.#render(), 100);
        this.#timer.unref();
        break;
      case 'step-start':
        this.#running.set(event.id, { startedAt: event.at, lastLine: '', attempt: event.attempt });
        break;
      case 'step-log': {
        const running = this.#running.get(event.id);
        if (running && event.line.trim()) running.lastLine = event.line;
        const lines = this.#logs.get(event.id) ?? [];
        lines.push(event.line);
        if (lines.length > 40) lines.shift();
        this.#logs.set(event.id, lines);
        break;
      }
      case 'step-retry':
        break;
      case 'step-end': {
        this.#running.delete(event.id);
        this.#totals.add(event.outcome);
        this.#done += 1;
        const symbol = paint(outcomeStyle[event.outcome], outcomeSymbol[event.outcome], this.#color);
        const lines = [`${symbol} ${paint('bold', event.id, this.#color)} ${paint('gray', endLine(event), this.#color)}`];
        if (event.outcome === 'failure' || event.outcome === 'timed-out') {
          for (const line of this.#logs.get(event.id) ?? []) lines.push(paint('gray', `    │ ${line}`, this.#color));
        }
        this.#logs.delete(event.id);
        this.#above(lines.join('\n'));
        break;
      }
      case 'run-end':
        this.close();
        this.#out.write(`${paint('bold', runEndLine(event, this.#pipeline, this.#totals.value), this.#color)}\n`);
        break;
    }
    this.#render();
  }

  close(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#update.clear();
  }

  #above(text: string): void {
    this.#update.clear();
    this.#out.write(`${text}\n`);
  }

  #render(): void {
    if (!this.#timer) return;
    this.#frame = (this.#frame + 1) % spinnerFrames.length;
    const width = Math.max(40, this.#out.columns ?? 100);
    const now = Date.now();
    const rows = [...this.#running.entries()].map(([id, r]) => {
      const elapsed = formatDuration(now - r.startedAt);
      const attempt = r.attempt > 1 ? ` (attempt ${r.attempt})` : '';
      const head = `${paint('cyan', spinnerFrames[this.#frame]!, this.#color)} ${id}${attempt} ${paint('gray', elapsed, this.#color)}`;
      const tail = r.lastLine ? `  ${r.lastLine}` : '';
      return (head + paint('gray', tail, this.#color)).slice(0, width + 40);
    });
    rows.push(paint('gray', `${this.#done}/${this.#planned} done · ${this.#running.size} running`, this.#color));
    this.#update(rows.join('\n'));
  }
}
