// The pipeline as plain data, after shipgate.yml has been parsed and validated. The planner, the
// engine, the exporters and every door work on this model only, never on YAML.
import type { SourceLocation } from '@shipgate/protocol';

import type { MatrixCombination, MatrixValue } from '@shipgate/protocol';

export type { MatrixCombination, MatrixValue };

export interface MatrixSpec {
  /** axis → values, in file order: `{ target: [api, worker] }` */
  readonly axes: Readonly<Record<string, readonly MatrixValue[]>>;
  /** Extra combinations (or extra keys on matching ones), as in GitHub Actions. */
  readonly include: readonly MatrixCombination[];
  /** Combinations removed from the product (partial matches remove every match). */
  readonly exclude: readonly MatrixCombination[];
  /** At most this many instances of this step at once. */
  readonly maxParallel?: number;
}

export interface CacheSpec {
  /** Globs, relative to the step's working directory, whose contents key the cache. */
  readonly inputs: readonly string[];
  /** Globs (or directories), relative to the step's working directory, of the files the step produces. */
  readonly outputs?: readonly string[];
}

export interface StepSpec {
  /** The key in `steps:`. */
  readonly id: string;
  /** Step name for `uses:`; `run` for a shell step. */
  readonly uses: string;
  /** Inputs: for `run:` steps `{ script, shell? }`; for `uses:` the raw `with:` (validated at load). May hold `${{ }}`. */
  readonly with: Readonly<Record<string, unknown>>;
  readonly needs: readonly string[];
  readonly matrix?: MatrixSpec;
  readonly env: Readonly<Record<string, string>>;
  /** Expression source of `if:` (without `${{ }}`), evaluated before the step starts. */
  readonly if?: string;
  readonly timeoutMs?: number;
  readonly retries: number;
  readonly continueOnError: boolean;
  /** Relative to the pipeline's directory. */
  readonly workingDirectory?: string;
  /** Declared output names (documentation, export, and a check that they were set). */
  readonly outputs: readonly string[];
  readonly cache?: CacheSpec;
  /** `artifacts:` globs (relative to the working directory) of files later steps read: exports hand them between jobs. */
  readonly artifacts?: readonly string[];
  /**
   * Name of the executor that runs this step: `local` (default), `codebuild` (project from
   * `$SHIPGATE_CODEBUILD_PROJECT`), `codebuild:<project>`, or a name derived from an object form.
   * Its settings are in `PipelineSpec.executors[name]`.
   */
  readonly executor?: string;
  /** Where the step is defined, for errors raised later (at plan or run time). */
  readonly location?: SourceLocation;
}

export interface PipelineSpec {
  readonly name: string;
  /** Absolute path of shipgate.yml. */
  readonly file: string;
  /** Absolute directory of shipgate.yml: steps run relative to it. */
  readonly root: string;
  readonly env: Readonly<Record<string, string>>;
  /** Steps in file order. */
  readonly steps: readonly StepSpec[];
  /** Pipeline-wide executor default (`local`). */
  readonly executor?: string;
  /** `cache-url:` of shipgate.yml: a shared cache (`file:///…`, `s3://bucket/prefix`); `$SHIPGATE_CACHE_URL` wins. */
  readonly cacheUrl?: string;
  /** Settings of every executor named by the pipeline or a step, by name. */
  readonly executors?: Readonly<Record<string, ExecutorConfig>>;
}

/** Where a secret environment variable of a CodeBuild build comes from (CodeBuild resolves it). */
export interface CodeBuildSecretRef {
  readonly type: 'PARAMETER_STORE' | 'SECRETS_MANAGER';
  /** Parameter name, or `secret-id[:json-key[:version-stage[:version-id]]]`. */
  readonly value: string;
}

export interface CodeBuildExecutorConfig {
  readonly kind: 'codebuild';
  /** Undefined: taken from `$SHIPGATE_CODEBUILD_PROJECT` when the run starts. */
  readonly project?: string;
  readonly region?: string;
  readonly image?: string;
  readonly computeType?: string;
  /** Commands before the step (default `npm ci`). */
  readonly install?: readonly string[];
  readonly secrets: Readonly<Record<string, CodeBuildSecretRef>>;
  readonly pollIntervalMs?: number;
}

export type ExecutorConfig = { readonly kind: 'local' } | CodeBuildExecutorConfig;
