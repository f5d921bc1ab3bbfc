// What the CodeBuild executor sends: the buildspec override that runs `shipgate step --invocation`,
// the environment variable overrides (secrets only as Parameter Store / Secrets Manager references,
// never as values), the time-out, and the build-list of a matrix batch. Pure functions over plain
// data, so every rule here is table-tested without AWS.
import { stringify } from 'yaml';
import type { CodeBuildExecutorConfig } from '@shipgate/core';
import { secretNamePattern, SecretMasker } from '@shipgate/core';
import { ShipgateError } from '@shipgate/protocol';
import type { StepInvocation } from '@shipgate/protocol';

/** The invocation's base64 lives in this variable in batch builds (one value per build-list entry). */
export const invocationVariable = 'SHIPGATE_INVOCATION';

/** Default commands before the step: the repository's dependencies, which include shipgate. */
export const defaultInstallCommands: readonly string[] = ['npm ci --no-audit --no-fund'];

/** One `environmentVariablesOverride` entry, as the CodeBuild API takes it. */
export interface EnvironmentVariableOverride {
  name: string;
  value: string;
  type: 'PLAINTEXT' | 'PARAMETER_STORE' | 'SECRETS_MANAGER';
}

export interface RemoteInvocation {
  /** The invocation to send: secret-mapped variables removed (the build reads them itself). */
  invocation: StepInvocation;
  /**
   * The step's env as PLAINTEXT (visible in the build, its install commands included), references
   * for the secrets it uses, and SHIPGATE_SECRETS so the build masks them.
   */
  environment: EnvironmentVariableOverride[];
}

/** Single-quotes a word for bash when it needs it. */
export function shellWord(text: string): string {
  return /^[\w./@:=+-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

function mentions(text: string, name: string): boolean {
  return new RegExp(`(^|[^A-Za-z0-9_])${name}([^A-Za-z0-9_]|$)`).test(text);
}

/**
 * Prepares an invocation for a build: variables mapped under `secrets:` are taken out (CodeBuild
 * resolves them from Parameter Store / Secrets Manager), and any other secret in its env or inputs
 * is refused — a build request, its buildspec and its console page are not places for secrets.
 */
export function prepareRemoteInvocation(invocation: StepInvocation, config: CodeBuildExecutorConfig, secrets: Iterable<string>, executorName: string): RemoteInvocation {
  const masker = new SecretMasker(secrets);
  const mapped = config.secrets;
  const env: Record<string, string> = {};
  const used = new Set<string>();
  const withText = JSON.stringify(invocation.with);
  for (const [name, value] of Object.entries(invocation.env)) {
    if (Object.hasOwn(mapped, name)) {
      used.add(name);
      continue;
    }
    const looksSecret = secretNamePattern.test(name) && value.trim().length >= 4;
    if (looksSecret || masker.mask(value) !== value) {
      throw new ShipgateError('executor.codebuild-secret', `step "${invocation.stepId}": env ${name} holds a secret, and ${executorName} never sends secrets in plain text`, {
        hint: `store it in Parameter Store or Secrets Manager and map it: executor: { codebuild: { project: ${config.project ?? '<project>'}, secrets: { ${name}: parameter-store:/path/to/${name.toLowerCase()} } } }`,
      });
    }
    env[name] = value;
  }
  if (masker.mask(withText) !== withText) {
    throw new ShipgateError('executor.codebuild-secret', `step "${invocation.stepId}": an input in with: holds a secret, and ${executorName} never sends secrets in plain text`, {
      hint: 'read the secret inside the step from an environment variable mapped under executor: { codebuild: { secrets: … } }',
    });
  }
  for (const name of Object.keys(mapped)) if (mentions(withText, name)) used.add(name);
  const environment: EnvironmentVariableOverride[] = [
    // CODEBUILD_* names are CodeBuild's own: those stay inside the invocation only
    ...Object.entries(env)
      .filter(([name]) => !name.startsWith('CODEBUILD_'))
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([name, value]) => ({ name, value, type: 'PLAINTEXT' as const })),
    ...[...used].sort().map((name) => ({ name, value: mapped[name]!.value, type: mapped[name]!.type })),
  ];
  if (used.size) environment.push({ name: 'SHIPGATE_SECRETS', value: [...used].sort().join(','), type: 'PLAINTEXT' });
  return { invocation: { ...invocation, env }, environment };
}

/**
 * A batch shares one `environmentVariablesOverride`: what every instance has alike goes there
 * (secret references, SHIPGATE_SECRETS, the step's env); what differs (SHIPGATE_MATRIX_*, env built
 * from matrix values) goes into each instance's build-list `env.variables`.
 */
export function splitBatchEnvironment(lists: ReadonlyArray<readonly EnvironmentVariableOverride[]>): { shared: EnvironmentVariableOverride[]; own: Record<string, string>[] } {
  const key = (o: EnvironmentVariableOverride) => `${o.type}\u0000${o.name}\u0000${o.value}`;
  const counts = new Map<string, number>();
  for (const list of lists) for (const o of list) if (o.name !== 'SHIPGATE_SECRETS') counts.set(key(o), (counts.get(key(o)) ?? 0) + 1);
  const shared = new Map<string, EnvironmentVariableOverride>();
  const own = lists.map(() => ({}) as Record<string, string>);
  const secretNames = new Set<string>();
  lists.forEach((list, i) => {
    for (const o of list) {
      if (o.name === 'SHIPGATE_SECRETS') for (const n of o.value.split(',')) secretNames.add(n);
      else if (counts.get(key(o)) === lists.length || o.type !== 'PLAINTEXT') shared.set(o.name, o);
      else own[i]![o.name] = o.value;
    }
  });
  const result = [...shared.values()];
  if (secretNames.size) result.push({ name: 'SHIPGATE_SECRETS', value: [...secretNames].sort().join(','), type: 'PLAINTEXT' });
  return { shared: result, own };
}

/** The command a build runs for one invocation (`data` is the base64, or "$SHIPGATE_INVOCATION"). */
export function stepCommand(sourceDirectory: string, data: string): string {
  const dir = sourceDirectory && sourceDirectory !== '.' ? `-C ${shellWord(sourceDirectory)} ` : '';
  return `npx shipgate ${dir}step --invocation ${data}`;
}

export interface BuildspecOptions {
  install?: readonly string[] | undefined;
  command: string;
  /** A matrix batch: one build-list entry per invocation, each with its own SHIPGATE_INVOCATION. */
  buildList?: ReadonlyArray<{ identifier: string; invocation: string; variables?: Readonly<Record<string, string>> }>;
}

/** The `buildspecOverride` text (buildspec version 0.2). */
export function renderBuildspec(options: BuildspecOptions): string {
  const spec: Record<string, unknown> = {
    version: 0.2,
    env: { shell: 'bash' },
  };
  if (options.buildList) {
    spec.batch = {
      // shipgate decides what a failure stops (fail-fast, --keep-going), not the batch
      'fast-fail': false,
      'build-list': options.buildList.map((b) => ({ identifier: b.identifier, env: { variables: { ...b.variables, [invocationVariable]: b.invocation } } })),
    };
  }
  const install = options.install ?? defaultInstallCommands;
  spec.phases = {
    ...(install.length ? { install: { commands: [...install] } } : {}),
    build: { commands: [options.command] },
  };
  return stringify(spec, { lineWidth: 0 });
}

/** A build-list identifier for an invocation: letters, digits and _ only, unique by its index. */
export function batchIdentifier(invocationId: string, index: number): string {
  const readable = invocationId.replace(/[^A-Za-z0-9]+/g, '_').replace(/^_+|_+$/g, '').slice(0, 60);
  return `i${index}_${readable}`;
}

/** `timeoutInMinutesOverride` for a step time-out: CodeBuild allows 5–2160 minutes. */
export function buildTimeoutMinutes(timeoutMs: number | undefined): number | undefined {
  if (timeoutMs === undefined) return undefined;
  // one extra minute, so shipgate's own time-out (which stops the build and says so) fires first
  return Math.min(2160, Math.max(5, Math.ceil(timeoutMs / 60_000) + 1));
}

/** The build id in a build ARN (`arn:aws:codebuild:region:account:build/project:uuid` → `project:uuid`). */
export function buildIdFromArn(arn: string): string {
  const at = arn.indexOf(':build/');
  return at === -1 ? arn : arn.slice(at + ':build/'.length);
}

/** The longest `buildTimeoutMinutes` of a batch's instances; 0 when none has a time-out. */
export function batchTimeoutMinutes(timeoutsMs: ReadonlyArray<number | undefined>): number {
  return Math.max(0, ...timeoutsMs.map((ms) => buildTimeoutMinutes(ms) ?? 0));
}

/** One instance of a matrix batch, ready to send. */
export interface BatchEntry {
  /** From `batchIdentifier`. */
  identifier: string;
  /** The invocation's base64 (`encodeInvocation`). */
  data: string;
  /** Its environment from `prepareRemoteInvocation`. */
  overrides: readonly EnvironmentVariableOverride[];
  timeoutMs?: number | undefined;
}

/** What StartBuildBatch carries for a batch beyond the project and source: buildspec, env, time-out. */
export interface BatchRequest {
  buildspecOverride: string;
  environmentVariablesOverride?: EnvironmentVariableOverride[];
  buildTimeoutInMinutesOverride?: number;
}

/**
 * The batch's request: a build-list with each instance's invocation and own variables, the
 * variables they share as one override, and the longest instance time-out for the batch.
 */
export function batchRequest(entries: readonly BatchEntry[], options: { install?: readonly string[] | undefined; sourceDirectory: string }): BatchRequest {
  const { shared, own } = splitBatchEnvironment(entries.map((e) => e.overrides));
  const timeout = batchTimeoutMinutes(entries.map((e) => e.timeoutMs));
  return {
    buildspecOverride: renderBuildspec({
      install: options.install,
      command: stepCommand(options.sourceDirectory, `"$${invocationVariable}"`),
      buildList: entries.map((e, i) => ({ identifier: e.identifier, invocation: e.data, variables: own[i]! })),
    }),
    ...(shared.length ? { environmentVariablesOverride: shared } : {}),
    ...(timeout ? { buildTimeoutInMinutesOverride: timeout } : {}),
  };
}
