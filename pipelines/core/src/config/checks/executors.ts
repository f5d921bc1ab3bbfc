// The `executor:` values of a pipeline (its own and each step's): each usable one is resolved to a
// name and its settings are kept for the spec; each unusable one becomes a problem at its value.
import type { Path } from '../key-path.js';
import type { ExecutorConfig } from '../model.js';
import type { Positions } from '../positions.js';
import type { Problems } from '../problems.js';
import type { RawStep } from '../schema.js';
import { resolveExecutor } from '../executor.js';

export class ExecutorChoices {
  /** Settings of every executor named so far, by name. */
  readonly configs: Record<string, ExecutorConfig> = {};

  constructor(
    private readonly kinds: readonly string[],
    private readonly problems: Problems,
    private readonly pos: Positions,
  ) {}

  /** The executor's name for the spec, or undefined after recording why it is not usable. */
  name(raw: RawStep['executor'], where: string, p: Path): string | undefined {
    if (raw === undefined) return undefined;
    const resolved = resolveExecutor(raw, this.kinds);
    if (!resolved.ok) {
      this.problems.add('config.executor', `${where}${resolved.message}`, this.pos.value(p) ?? this.pos.key(p), resolved.hint);
      return undefined;
    }
    this.configs[resolved.name] = resolved.config;
    return resolved.name;
  }
}
