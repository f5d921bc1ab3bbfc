// Image tags and OCI labels from the CI context, with the rules teams know from
// docker/metadata-action: `type=semver,pattern={{major}}.{{minor}}`, `type=ref,event=branch`,
// `type=sha`, `type=raw,value=…`, `type=schedule`, `prefix=` / `suffix=` / `enable=` on any rule,
// and a flavor (`latest=auto`, `prefix=`, `suffix=`). `computeTags` is a pure function of plain
// data; `parseTagRules` / `parseFlavor` read the same multi-line text metadata-action reads.
import { ShipgateError } from '@shipgate/protocol';
import { parseImageReference } from '../oci/reference.js';
import type { CiContext } from '@shipgate/protocol';

interface RuleCommon {
  /** `true`/`false` or a template such as `{{is_default_branch}}`. Default true. */
  enable?: boolean | string;
  /** Overrides the flavor's prefix / suffix for this rule. */
  prefix?: string;
  suffix?: string;
}

export type TagRule = RuleCommon &
  (
    | { type: 'semver'; pattern: string; value?: string }
    | { type: 'ref'; event: 'branch' | 'tag' | 'pr' }
    | { type: 'sha'; format?: 'short' | 'long' }
    | { type: 'raw'; value: string }
    | { type: 'schedule'; pattern?: string }
  );

export interface Flavor {
  /** `auto`: `latest` on the default branch and on stable semver releases. */
  latest: 'auto' | boolean;
  /** Added to every tag but `latest`. */
  prefix: string;
  suffix: string;
}

export interface TagRules {
  /** Image names without tag, e.g. `127.0.0.1:5000/orders` or `ghcr.io/acme/orders`. */
  images: readonly string[];
  /** Default: semver {{version}}, {{major}}.{{minor}}, {{major}}; ref branch; ref pr; sha. */
  tags?: readonly TagRule[];
  flavor?: Partial<Flavor>;
  /** Extra labels; they override the computed `org.opencontainers.image.*` ones. */
  labels?: Readonly<Record<string, string>>;
  title?: string;
  description?: string;
  /** Source repository URL (default: the GitHub repository URL when on GitHub). */
  source?: string;
  url?: string;
  licenses?: string;
  vendor?: string;
}

export interface TagContext extends CiContext {
  /** The build time (labels, `{{date}}`); passed in so the function stays pure. */
  now: Date;
}

export interface ImageMetadata {
  /** The main version: the first tag the rules produced (`latest` only if nothing else). */
  version: string;
  /** Tag names, in rule order, without duplicates. */
  tagNames: string[];
  /** Full references: every image × every tag name. */
  tags: string[];
  labels: Record<string, string>;
}

export const defaultTagRules: readonly TagRule[] = [
  { type: 'semver', pattern: '{{version}}' },
  { type: 'semver', pattern: '{{major}}.{{minor}}' },
  { type: 'semver', pattern: '{{major}}' },
  { type: 'ref', event: 'branch' },
  { type: 'ref', event: 'pr' },
  { type: 'sha' },
];

interface SemVer {
  major: string;
  minor: string;
  patch: string;
  prerelease?: string;
  build?: string;
}

const semverPattern = /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$/;

export function parseSemver(text: string | undefined): SemVer | undefined {
  const m = text ? semverPattern.exec(text) : null;
  if (!m) return undefined;
  return { major: m[1]!, minor: m[2]!, patch: m[3]!, ...(m[4] ? { prerelease: m[4] } : {}), ...(m[5] ? { build: m[5] } : {}) };
}

/** A string Docker accepts as a tag: other characters become `-`, no leading `.`/`-`, at most 128. */
export function sanitizeTag(text: string): string {
  return text
    .replace(/[^A-Za-z0-9_.-]/g, '-')
    .replace(/^[.-]+/, '')
    .slice(0, 128);
}

function formatDate(now: Date, format: string): string {
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  const parts: Record<string, string> = {
    YYYY: String(now.getUTCFullYear()),
    YY: pad(now.getUTCFullYear() % 100),
    MM: pad(now.getUTCMonth() + 1),
    DD: pad(now.getUTCDate()),
    HH: pad(now.getUTCHours()),
    mm: pad(now.getUTCMinutes()),
    ss: pad(now.getUTCSeconds()),
  };
  return format.replace(/YYYY|YY|MM|DD|HH|mm|ss/g, (token) => parts[token]!);
}

function isDefaultBranch(context: TagContext): boolean {
  return Boolean(context.branch && context.defaultBranch && context.branch === context.defaultBranch && context.pullRequest === undefined);
}

/** Expands `{{branch}}`, `{{tag}}`, `{{sha}}`, `{{sha_long}}`, `{{pr}}`, `{{run_id}}`, `{{is_default_branch}}`, `{{date 'FORMAT'}}`. */
export function expandTemplate(template: string, context: TagContext, extra: Record<string, string> = {}): string {
  return template.replace(/\{\{\s*([a-z_]+)(?:\s+['"]([^'"]*)['"])?\s*\}\}/g, (whole, name: string, argument: string | undefined) => {
    switch (name) {
      case 'branch':
        return context.branch ?? '';
      case 'tag':
        return context.tag ?? '';
      case 'sha':
        return context.sha?.slice(0, 7) ?? '';
      case 'sha_long':
        return context.sha ?? '';
      case 'pr':
        return context.pullRequest === undefined ? '' : String(context.pullRequest);
      case 'run_id':
        return context.runId ?? '';
      case 'is_default_branch':
        return String(isDefaultBranch(context));
      case 'date':
        return formatDate(context.now, argument ?? 'YYYYMMDD');
      default:
        if (name in extra) return extra[name]!;
        throw new ShipgateError('image.bad-template', `unknown template expression ${whole}`, {
          hint: 'known: {{branch}} {{tag}} {{sha}} {{sha_long}} {{pr}} {{run_id}} {{is_default_branch}} {{date \'YYYYMMDD\'}}; in semver patterns {{version}} {{major}} {{minor}} {{patch}} {{raw}}',
        });
    }
  });
}

function enabled(rule: TagRule, context: TagContext): boolean {
  if (rule.enable === undefined || rule.enable === true) return true;
  if (rule.enable === false) return false;
  return expandTemplate(rule.enable, context).trim() === 'true';
}

/** The tag a rule produces in this context, before prefix / suffix, or undefined when it does not apply. */
function ruleValue(rule: TagRule, context: TagContext): { value: string; stableRelease?: boolean } | undefined {
  switch (rule.type) {
    case 'semver': {
      const raw = rule.value ? expandTemplate(rule.value, context) : context.tag;
      const version = parseSemver(raw);
      if (!version) return undefined;
      const full = `${version.major}.${version.minor}.${version.patch}${version.prerelease ? `-${version.prerelease}` : ''}${version.build ? `+${version.build}` : ''}`;
      const wantsFull = /\{\{\s*(version|raw)\s*\}\}/.test(rule.pattern);
      // Pre-releases get only their full version: `1.2` must not move to a release candidate.
      if (version.prerelease && !wantsFull) return undefined;
      // `{{major}}` alone for 0.x would be `0`, which names no compatibility promise.
      if (version.major === '0' && /\{\{\s*major\s*\}\}/.test(rule.pattern) && !/\{\{\s*(minor|version|raw)\s*\}\}/.test(rule.pattern)) return undefined;
      const value = expandTemplate(rule.pattern, context, { version: full, raw: raw!, major: version.major, minor: version.minor, patch: version.patch });
      return { value, stableRelease: !version.prerelease };
    }
    case 'ref':
      if (rule.event === 'branch') return context.branch && context.pullRequest === undefined && !context.tag ? { value: context.branch } : undefined;
      if (rule.event === 'tag') return context.tag ? { value: context.tag } : undefined;
      return context.pullRequest !== undefined ? { value: `${rule.prefix ?? 'pr-'}${context.pullRequest}` } : undefined;
    case 'sha':
      if (!context.sha) return undefined;
      return { value: `${rule.prefix ?? 'sha-'}${rule.format === 'long' ? context.sha : context.sha.slice(0, 7)}` };
    case 'raw':
      return { value: expandTemplate(rule.value, context) };
    case 'schedule':
      return context.event === 'schedule' ? { value: expandTemplate(rule.pattern ?? 'nightly', context) } : undefined;
  }
}

/** Tags and OCI labels for an image build in `context` under `rules`. Pure. */
export function computeTags(context: TagContext, rules: TagRules): ImageMetadata {
  const flavor: Flavor = { latest: 'auto', prefix: '', suffix: '', ...rules.flavor };
  const names: string[] = [];
  let stableRelease = false;
  for (const rule of rules.tags ?? defaultTagRules) {
    if (!enabled(rule, context)) continue;
    const produced = ruleValue(rule, context);
    if (!produced) continue;
    if (produced.stableRelease) stableRelease = true;
    // the pr and sha rules use prefix as their own `pr-` / `sha-` part
    const ownPrefix = (rule.type === 'ref' && rule.event === 'pr') || rule.type === 'sha';
    const prefix = ownPrefix ? flavor.prefix : (rule.prefix ?? flavor.prefix);
    const name = sanitizeTag(`${prefix}${produced.value}${rule.suffix ?? flavor.suffix}`);
    if (name && !names.includes(name)) names.push(name);
  }
  const latest = flavor.latest === true || (flavor.latest === 'auto' && (stableRelease || (isDefaultBranch(context) && !context.tag)));
  const version = names[0] ?? (latest ? 'latest' : '');
  if (latest && !names.includes('latest')) names.push('latest');

  const images = rules.images.map((image) => {
    const reference = parseImageReference(image);
    if (reference.tag || reference.digest) {
      throw new ShipgateError('image.bad-image', `image "${image}" must be a name without tag or digest`, { hint: 'tags come from the rules, e.g. image: 127.0.0.1:5000/orders' });
    }
    return image.trim();
  });
  const source = rules.source ?? (context.provider === 'github' && context.repository ? `https://github.com/${context.repository}` : undefined);
  const title = rules.title ?? context.repository?.split('/').pop() ?? images[0]?.split('/').pop();
  const computed: Record<string, string | undefined> = {
    'org.opencontainers.image.created': context.now.toISOString(),
    'org.opencontainers.image.revision': context.sha,
    'org.opencontainers.image.version': version || undefined,
    'org.opencontainers.image.source': source,
    'org.opencontainers.image.url': rules.url ?? source,
    'org.opencontainers.image.title': title,
    'org.opencontainers.image.description': rules.description,
    'org.opencontainers.image.licenses': rules.licenses,
    'org.opencontainers.image.vendor': rules.vendor,
  };
  const labels = Object.fromEntries(Object.entries({ ...computed, ...rules.labels }).filter((e): e is [string, string] => e[1] !== undefined && e[1] !== ''));
  return { version, tagNames: names, tags: images.flatMap((image) => names.map((name) => `${image}:${name}`)), labels };
}

function splitAttributes(line: string): Record<string, string> {
  const attributes: Record<string, string> = {};
  // commas inside {{ … }} belong to the template
  for (const part of line.split(/,(?![^{]*\}\})/)) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new ShipgateError('image.bad-tag-rule', `tag rule "${line}": "${part}" is not key=value`, { hint: 'e.g. type=semver,pattern={{major}}.{{minor}}' });
    attributes[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return attributes;
}

const ruleKeys: Record<TagRule['type'], string[]> = {
  semver: ['pattern', 'value'],
  ref: ['event'],
  sha: ['format'],
  raw: ['value'],
  schedule: ['pattern'],
};

/** Reads metadata-action style rules, one per line (`type=…,key=value,…`); blank lines and `#` comments skipped. */
export function parseTagRules(text: string): TagRule[] {
  const rules: TagRule[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const a = splitAttributes(line);
    const type = a.type as TagRule['type'] | undefined;
    if (!type || !(type in ruleKeys)) {
      throw new ShipgateError('image.bad-tag-rule', `tag rule "${line}": type must be one of ${Object.keys(ruleKeys).join(', ')}`, { hint: 'e.g. type=ref,event=branch' });
    }
    for (const key of Object.keys(a)) {
      if (key !== 'type' && key !== 'enable' && key !== 'prefix' && key !== 'suffix' && !ruleKeys[type].includes(key)) {
        throw new ShipgateError('image.bad-tag-rule', `tag rule "${line}": unknown key "${key}" for type=${type}`, {
          hint: `allowed: ${[...ruleKeys[type], 'enable', 'prefix', 'suffix'].join(', ')}`,
        });
      }
    }
    const common: RuleCommon = {
      ...(a.enable !== undefined ? { enable: a.enable === 'true' ? true : a.enable === 'false' ? false : a.enable } : {}),
      ...(a.prefix !== undefined ? { prefix: a.prefix } : {}),
      ...(a.suffix !== undefined ? { suffix: a.suffix } : {}),
    };
    const need = (key: string): string => {
      const value = a[key];
      if (!value) throw new ShipgateError('image.bad-tag-rule', `tag rule "${line}": type=${type} needs ${key}=`, { hint: type === 'semver' ? 'e.g. pattern={{version}}' : 'e.g. value=stable' });
      return value;
    };
    if (type === 'semver') rules.push({ type, pattern: need('pattern'), ...(a.value ? { value: a.value } : {}), ...common });
    else if (type === 'ref') {
      const event = need('event');
      if (event !== 'branch' && event !== 'tag' && event !== 'pr') throw new ShipgateError('image.bad-tag-rule', `tag rule "${line}": event must be branch, tag or pr`, { hint: 'e.g. type=ref,event=pr' });
      rules.push({ type, event, ...common });
    } else if (type === 'sha') {
      const format = a.format ?? 'short';
      if (format !== 'short' && format !== 'long') throw new ShipgateError('image.bad-tag-rule', `tag rule "${line}": format must be short or long`, { hint: 'type=sha,format=long' });
      rules.push({ type, format, ...common });
    } else if (type === 'raw') rules.push({ type, value: need('value'), ...common });
    else rules.push({ type, ...(a.pattern ? { pattern: a.pattern } : {}), ...common });
  }
  return rules;
}

/** Reads a metadata-action style flavor: `latest=auto|true|false`, `prefix=…`, `suffix=…`, one per line or comma-separated. */
export function parseFlavor(text: string): Partial<Flavor> {
  const flavor: Partial<Flavor> = {};
  for (const part of text.split(/[\n,]/).map((s) => s.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    const key = eq > 0 ? part.slice(0, eq).trim() : part;
    const value = eq > 0 ? part.slice(eq + 1).trim() : '';
    if (key === 'latest') {
      if (value !== 'auto' && value !== 'true' && value !== 'false') throw new ShipgateError('image.bad-flavor', `flavor latest=${value}: must be auto, true or false`, { hint: 'latest=auto' });
      flavor.latest = value === 'auto' ? 'auto' : value === 'true';
    } else if (key === 'prefix' || key === 'suffix') flavor[key] = value;
    else throw new ShipgateError('image.bad-flavor', `flavor "${part}": unknown key "${key}"`, { hint: 'allowed: latest, prefix, suffix' });
  }
  return flavor;
}

/** `key=value` lines (labels, build args). */
export function parseKeyValueLines(text: string, what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) throw new ShipgateError('image.bad-input', `${what}: "${line}" is not key=value`, { hint: `one key=value per line` });
    out[line.slice(0, eq).trim()] = line.slice(eq + 1);
  }
  return out;
}
