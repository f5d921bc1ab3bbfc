// What every per-step check needs: where to put problems, where things are in the source, the
// registered steps, and the pipeline's step ids with their needs.
import type { StepRegistry } from '@shipgate/protocol';
import type { Positions } from '../positions.js';
import type { Problems } from '../problems.js';
import type { ExecutorChoices } from './executors.js';

export interface CheckContext {
  readonly problems: Problems;
  readonly pos: Positions;
  readonly registry: StepRegistry;
  /** The pipeline file as given (for messages that name it). */
  readonly file: string;
  readonly executors: ExecutorChoices;
  /** Step ids in file order. */
  readonly ids: readonly string[];
  /** Each step's needs, as a list. */
  readonly needsOf: ReadonlyMap<string, readonly string[]>;
}
