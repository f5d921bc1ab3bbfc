// The steps `uses:` can name, by name. The CLI fills one from the built-in steps and the loaded
// plugins; a team embedding the engine builds its own.
//
// A plugin that declares its step names in a manifest is registered deferred (`defer`): its names
// count for `names()` (unknown-step errors and their did-you-mean list them) but its module is only
// imported by `ready()` for a pipeline that uses one of them, so a start that does not need it does
// not pay for evaluating it. `get()` of a deferred step before `ready()` is a programming error.
import type { StepDefinition } from './step.js';

/** Steps whose definitions are imported on demand: their names now, `load` when one is needed. */
interface DeferredSteps {
  readonly names: readonly string[];
  readonly load: () => Promise<readonly StepDefinition[]>;
  loading?: Promise<void>;
}

export class StepRegistry {
  readonly #steps = new Map<string, StepDefinition>();
  readonly #deferred = new Map<string, DeferredSteps>();

  constructor(steps: Iterable<StepDefinition> = []) {
    for (const step of steps) this.register(step);
  }

  register(step: StepDefinition): this {
    if (this.#steps.has(step.name) || this.#deferred.has(step.name)) throw new Error(`step "${step.name}" is registered twice`);
    this.#steps.set(step.name, step);
    return this;
  }

  /** Registers `names` now and their definitions when `ready()` is asked for one of them (`load` must define exactly these names). */
  defer(names: readonly string[], load: () => Promise<readonly StepDefinition[]>): this {
    for (const name of names) if (this.#steps.has(name) || this.#deferred.has(name)) throw new Error(`step "${name}" is registered twice`);
    const group: DeferredSteps = { names, load };
    for (const name of names) this.#deferred.set(name, group);
    return this;
  }

  /** Loads the deferred steps among `names` (every deferred step when no names are given). */
  async ready(names?: Iterable<string>): Promise<this> {
    const wanted = names === undefined ? [...this.#deferred.keys()] : [...names];
    const groups = new Set(wanted.map((name) => this.#deferred.get(name)).filter((g): g is DeferredSteps => g !== undefined));
    await Promise.all([...groups].map((group) => (group.loading ??= this.#load(group))));
    return this;
  }

  async #load(group: DeferredSteps): Promise<void> {
    const steps = await group.load();
    const got = new Set(steps.map((s) => s.name));
    const missing = group.names.filter((name) => !got.has(name));
    if (missing.length || got.size !== group.names.length) {
      throw new Error(`deferred steps ${group.names.join(', ')}: the module defines ${[...got].join(', ') || 'none'}${missing.length ? ` (missing ${missing.join(', ')})` : ''}`);
    }
    for (const name of group.names) this.#deferred.delete(name);
    for (const step of steps) this.register(step);
  }

  get(name: string): StepDefinition | undefined {
    if (this.#deferred.has(name)) throw new Error(`step "${name}" is not loaded yet: await registry.ready(["${name}"]) first`);
    return this.#steps.get(name);
  }

  names(): string[] {
    return [...this.#steps.keys(), ...this.#deferred.keys()].sort();
  }

  /** Every step; deferred ones must have been loaded (`await registry.ready()`). */
  list(): StepDefinition[] {
    return this.names().map((name) => this.get(name)!);
  }
}
