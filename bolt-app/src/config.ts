// The app's configuration file (path in SHIPGATE_CONFIG): which channel each environment's
// approvals go to, and who may decide. Read with positions, validated by one zod schema, and
// reloaded when the file changes — a broken edit is reported and the last good config is kept.
import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import { isMap, isScalar, LineCounter, parseDocument } from 'yaml';
import * as z from 'zod';
import { ShipgateError } from '@shipgate/protocol';
import type { EnvironmentPolicy } from './approvals/access.js';

const slackId = (what: string, pattern: RegExp, example: string) => z.string().regex(pattern, `${what} like ${example}`);

export const environmentSchema = z
  .object({
    channel: slackId('a Slack channel ID', /^[CGD][A-Z0-9]{6,}$/, 'C0123456789'),
    approvers: z.array(slackId('a Slack user ID (U…, W…) or user-group ID (S…)', /^[UWS][A-Z0-9]{6,}$/, 'U0AAAAAAA or S0BBBBBBB')).min(1, 'at least one approver'),
    // safe by default: a config edit that drops the key must not let requesters approve themselves
    'self-approve': z.boolean().default(false),
  })
  .strict();

export const configSchema = z
  .object({
    environments: z.record(z.string().regex(/^[\w.-]+$/, 'letters, digits, ".", "_" or "-"'), environmentSchema),
  })
  .strict();

export interface AppConfig {
  environments: Record<string, EnvironmentPolicy>;
}

/**
 * The policy of environment `name`, only when the config names it: an own property, so names like
 * `constructor` or `__proto__` never reach Object.prototype.
 */
export function environmentPolicy(config: AppConfig, name: string): EnvironmentPolicy | undefined {
  return Object.hasOwn(config.environments, name) ? config.environments[name] : undefined;
}

/** The configured environments' names. */
export function environmentNames(config: AppConfig): string[] {
  return Object.keys(config.environments);
}

/** Parses and validates config text; errors point at file:line:column. */
export function parseConfig(text: string, file = 'shipgate-bolt.yml'): AppConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const where = (offset: number | undefined) => {
    const pos = lineCounter.linePos(offset ?? 0);
    return { file, line: pos.line, column: pos.col };
  };
  if (doc.errors.length) {
    const e = doc.errors[0]!;
    throw new ShipgateError('bolt.config-yaml', `${file}: ${e.message.split('\n')[0]}`, { location: where(e.pos[0]), hint: 'fix the YAML syntax' });
  }
  const parsed = configSchema.safeParse(doc.toJS());
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => {
      let node = doc.getIn(issue.path as Array<string | number>, true) as { range?: [number, number] } | undefined;
      // an unknown key: point at the key itself, not at the map that holds it
      if (issue.code === 'unrecognized_keys' && isMap(node)) {
        const key = node.items.find((pair) => isScalar(pair.key) && issue.keys.includes(String(pair.key.value)))?.key;
        if (isScalar(key)) node = key as { range?: [number, number] };
      }
      const parent = issue.path.length ? (doc.getIn(issue.path.slice(0, -1) as Array<string | number>, true) as { range?: [number, number] } | undefined) : undefined;
      const field = issue.path.join('.') || '(top level)';
      return new ShipgateError('bolt.config', `${field}: ${issue.message}`, { location: where(node?.range?.[0] ?? parent?.range?.[0]), hint: 'environments: { <name>: { channel: C…, approvers: [U…, S…], self-approve: false } }' });
    });
    const [first, ...rest] = issues;
    throw new ShipgateError(first!.code, first!.message, { ...(first!.location ? { location: first!.location } : {}), ...(first!.hint ? { hint: first!.hint } : {}), related: rest });
  }
  // no prototype: an environment name is only ever a key of this map
  const environments: Record<string, EnvironmentPolicy> = Object.create(null) as Record<string, EnvironmentPolicy>;
  for (const [name, env] of Object.entries(parsed.data.environments)) {
    environments[name] = { channel: env.channel, approvers: env.approvers, selfApprove: env['self-approve'] };
  }
  return { environments };
}

export function loadConfigFile(file: string): AppConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ShipgateError('bolt.config-missing', `cannot read the config file ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { hint: 'set SHIPGATE_CONFIG to a YAML file with environments: (see the bolt-app README)' });
  }
  return parseConfig(text, file);
}

/** Holds the current config; `watch` reloads it when the file changes. */
export class ConfigSource {
  #current: AppConfig;
  #file: string | undefined;

  constructor(initial: AppConfig, file?: string) {
    this.#current = initial;
    this.#file = file;
  }

  static fromFile(file: string): ConfigSource {
    return new ConfigSource(loadConfigFile(file), file);
  }

  get current(): AppConfig {
    return this.#current;
  }

  set(config: AppConfig): void {
    this.#current = config;
  }

  /**
   * Polls the file's stat (fs.watchFile): unlike fs.watch it survives editors that replace the
   * file and Kubernetes ConfigMaps that swap a symlink. Returns a stop function.
   */
  watch(onReload: (result: { ok: true; config: AppConfig } | { ok: false; error: unknown }) => void, intervalMs = 1000): () => void {
    const file = this.#file;
    if (!file) return () => undefined;
    const listener = (curr: { mtimeMs: number; size: number }, prev: { mtimeMs: number; size: number }) => {
      if (curr.mtimeMs === prev.mtimeMs && curr.size === prev.size) return;
      try {
        this.#current = loadConfigFile(file);
        onReload({ ok: true, config: this.#current });
      } catch (error) {
        onReload({ ok: false, error });
      }
    };
    watchFile(file, { interval: intervalMs, persistent: false }, listener);
    return () => unwatchFile(file, listener);
  }
}
