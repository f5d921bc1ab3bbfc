// Long-polls (`GET /api/approvals/:id?wait=`) wake as soon as this replica decides or expires the
// approval they wait for; on other replicas they see it at their next read.
import { EventEmitter } from 'node:events';
import type { Approval } from '../approvals/model.js';

export class DecisionSignal {
  readonly #emitter = new EventEmitter();

  constructor() {
    // one listener per waiting long-poll, however many
    this.#emitter.setMaxListeners(0);
  }

  /** An approval reached a final state here. */
  decided(approval: Approval): void {
    this.#emitter.emit(approval.id, approval);
  }

  /** Resolves when approval `id` is decided here, after `ms`, or when `signal` aborts, whichever is first. */
  waitForChange(id: string, ms: number, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#emitter.off(id, done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      this.#emitter.on(id, done);
      signal.addEventListener('abort', done, { once: true });
    });
  }
}
