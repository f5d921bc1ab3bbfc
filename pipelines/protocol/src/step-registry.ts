// The steps `uses:` can name, by name. The CLI fills one from the built-in steps and the loaded
// plugins; a team embedding the engine builds its own.
import type { StepDefinition } from './step.js';

export class StepRegistry {
  readonly #steps = new Map<string, StepDefinition>();

  constructor(steps: Iterable<StepDefinition> = []) {
    for (const step of steps) this.register(step);
  }

  register(step: StepDefinition): this {
    if (this.#steps.has(step.name)) throw new Error(`step "${step.name}" is registered twice`);
    this.#steps.set(step.name, step);
    return this;
  }

  get(name: string): StepDefinition | undefined {
    return this.#steps.get(name);
  }

  names(): string[] {
    return [...this.#steps.keys()].sort();
  }

  list(): StepDefinition[] {
    return this.names().map((name) => this.#steps.get(name)!);
  }
}
