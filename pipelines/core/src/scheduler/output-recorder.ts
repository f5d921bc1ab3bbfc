// Outputs of each step's latest success, for a later `--only`: written in the background, in
// batches 50 ms after a step has succeeded (while the steps it let start are running), and awaited
// at the end. No file I/O sits between a step and its dependents, and little at the end (writing
// 200 steps' files there took 60–400 ms here).
import { recordStepOutputs } from '../cache/keys.js';

type Mask = (outputs: Readonly<Record<string, string>>) => Record<string, string>;

export class OutputRecorder {
  readonly #pending: [stepId: string, outputs: Readonly<Record<string, string>>][] = [];
  readonly #writes: Promise<void>[] = [];
  #timer: NodeJS.Timeout | undefined;

  /** `mask` runs when a batch is written, so secrets a step declared meanwhile are masked too. */
  constructor(
    private readonly stateDir: string,
    private readonly mask: Mask,
  ) {}

  add(stepId: string, outputs: Readonly<Record<string, string>>): void {
    this.#pending.push([stepId, outputs]);
  }

  /** Writes what is pending in 50 ms (one timer at a time). */
  writeSoon(): void {
    if (this.#pending.length > 0 && !this.#timer) this.#timer = setTimeout(() => this.write(), 50);
  }

  write(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#pending.length === 0) return;
    const batch = Object.fromEntries(this.#pending.splice(0).map(([stepId, outputs]) => [stepId, this.mask(outputs)]));
    this.#writes.push(recordStepOutputs(this.stateDir, batch).catch(() => undefined));
  }

  /** Writes what is pending and waits for every write. */
  async settle(): Promise<void> {
    this.write();
    await Promise.all(this.#writes);
  }
}
