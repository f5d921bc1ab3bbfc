// The `executor:` key of shipgate.yml: which engine runs a step's invocations. Written as `local`,
// `codebuild` (the project named by $SHIPGATE_CODEBUILD_PROJECT), `codebuild:<project>`, or
// `{ codebuild: { project, region, image, compute-type, install, secrets, poll-interval } }`.
// Each distinct setting gets a stable name; steps refer to it by that name and the run builds one
// executor per name (cli/executors.ts). Pure: no AWS code is loaded to read a pipeline.
import type { CodeBuildSecretRef, ExecutorConfig } from './model.js';
import { codebuildProjectPattern, type RawExecutor } from './schema.js';
import { parseDuration } from '@shipgate/protocol';
import { didYouMean } from '@shipgate/protocol';

/** Executor kinds this build of shipgate knows. */
export const executorKinds = ['local', 'codebuild'] as const;

export type ResolvedExecutor = { ok: true; name: string; config: ExecutorConfig } | { ok: false; message: string; hint: string };

const usage = 'local, codebuild:<project>, or { codebuild: { project: <project> } }';

function secretRef(text: string): CodeBuildSecretRef {
  const at = text.indexOf(':');
  return { type: text.slice(0, at) === 'parameter-store' ? 'PARAMETER_STORE' : 'SECRETS_MANAGER', value: text.slice(at + 1) };
}

/**
 * The name and settings of an `executor:` value (already shape-checked by the zod schema), or why
 * it is not usable. `kinds` limits what may be named (embedders can allow only `local`).
 */
export function resolveExecutor(raw: RawExecutor, kinds: readonly string[] = executorKinds): ResolvedExecutor {
  if (typeof raw === 'string') {
    const text = raw.trim();
    const [kind, ...rest] = text.split(':');
    const project = rest.join(':');
    if (!kinds.includes(kind!)) {
      return { ok: false, message: `unknown executor "${text}"${didYouMean(kind!, kinds)}`, hint: `allowed: ${usage}` };
    }
    if (kind === 'local') {
      if (rest.length) return { ok: false, message: `executor "${text}": local takes no argument`, hint: 'write executor: local' };
      return { ok: true, name: 'local', config: { kind: 'local' } };
    }
    if (rest.length === 0) return { ok: true, name: 'codebuild', config: { kind: 'codebuild', secrets: {} } };
    if (!codebuildProjectPattern.test(project)) {
      return { ok: false, message: `executor "${text}": "${project}" is not a CodeBuild project name`, hint: 'project names are 2–255 letters, digits, - and _, starting with a letter or digit' };
    }
    return { ok: true, name: `codebuild:${project}`, config: { kind: 'codebuild', project, secrets: {} } };
  }
  if (!kinds.includes('codebuild')) return { ok: false, message: 'the codebuild executor is not available here', hint: `allowed: ${kinds.join(', ')}` };
  const cb = raw.codebuild;
  let pollIntervalMs: number | undefined;
  if (cb['poll-interval'] !== undefined) {
    try {
      pollIntervalMs = parseDuration(cb['poll-interval']);
    } catch {
      return { ok: false, message: `executor codebuild: poll-interval "${cb['poll-interval']}" is not a duration`, hint: 'write it with units: 2s, 5s, 1m' };
    }
    if (pollIntervalMs < 1000) return { ok: false, message: `executor codebuild: poll-interval ${cb['poll-interval']} is below 1s`, hint: 'CodeBuild throttles callers that poll faster; use 2s or more' };
  }
  const config: ExecutorConfig = {
    kind: 'codebuild',
    project: cb.project,
    ...(cb.region ? { region: cb.region } : {}),
    ...(cb.image ? { image: cb.image } : {}),
    ...(cb['compute-type'] ? { computeType: cb['compute-type'] } : {}),
    ...(cb.install ? { install: [...cb.install] } : {}),
    secrets: Object.fromEntries(Object.entries(cb.secrets ?? {}).map(([name, ref]) => [name, secretRef(ref)])),
    ...(pollIntervalMs === undefined ? {} : { pollIntervalMs }),
  };
  // Only the project: the same name as the short form, so both spellings share one executor.
  const extra = Object.keys(cb).filter((k) => k !== 'project');
  if (extra.length === 0) return { ok: true, name: `codebuild:${cb.project}`, config };
  // node:crypto loaded here: every `shipgate validate` reads this module, few name such an executor
  const digest = process.getBuiltinModule('node:crypto').createHash('sha256').update(JSON.stringify(config)).digest('hex').slice(0, 8);
  return { ok: true, name: `codebuild:${cb.project}+${digest}`, config };
}
