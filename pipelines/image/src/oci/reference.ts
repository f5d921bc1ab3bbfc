// Image references as Docker reads them: `[registry/]repository[:tag][@digest]`. The first path
// component is a registry only when it looks like a host (has a `.` or `:`, or is `localhost`);
// otherwise the image is on Docker Hub, whose one-word repositories live under `library/`.
import { ShipgateError } from '@shipgate/protocol';

export interface ImageReference {
  /** Host and optional port as written, e.g. `127.0.0.1:5000`, `123.dkr.ecr.eu-west-1.amazonaws.com`, `docker.io`. */
  registry: string;
  /** e.g. `acme/orders`, `library/alpine`. */
  repository: string;
  tag?: string;
  digest?: string;
}

const repositoryPattern = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const tagPattern = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const digestPattern = /^sha(256:[a-f0-9]{64}|512:[a-f0-9]{128})$/;

export const dockerHub = 'docker.io';

export function isValidTag(tag: string): boolean {
  return tagPattern.test(tag);
}

export function isValidDigest(digest: string): boolean {
  return digestPattern.test(digest);
}

function bad(text: string, why: string): ShipgateError {
  return new ShipgateError('image.bad-reference', `"${text}" is not an image reference: ${why}`, {
    hint: 'write registry/repository[:tag][@sha256:…], e.g. 127.0.0.1:5000/orders:1.2.3 or 123456789012.dkr.ecr.eu-west-1.amazonaws.com/orders@sha256:…',
  });
}

/** Parses an image reference; `requireVersion` demands a tag or a digest. */
export function parseImageReference(text: string, options: { requireVersion?: boolean } = {}): ImageReference {
  let rest = text.trim();
  if (!rest) throw bad(text, 'it is empty');
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!isValidDigest(digest)) throw bad(text, `"${digest}" is not a sha256 digest`);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!isValidTag(tag)) throw bad(text, `"${tag}" is not a valid tag (letters, digits, _ . -, at most 128)`);
  }
  const slash = rest.indexOf('/');
  const first = slash === -1 ? '' : rest.slice(0, slash);
  let registry = dockerHub;
  let repository = rest;
  if (first && (first.includes('.') || first.includes(':') || first === 'localhost' || first.startsWith('['))) {
    registry = first;
    repository = rest.slice(slash + 1);
  }
  if (registry === dockerHub || registry === 'index.docker.io' || registry === 'registry-1.docker.io') {
    registry = dockerHub;
    if (!repository.includes('/')) repository = `library/${repository}`;
  }
  if (!repositoryPattern.test(repository)) throw bad(text, `"${repository}" is not a repository name (lower-case, digits, separators . _ - /)`);
  if (options.requireVersion && !tag && !digest) throw bad(text, 'it names no tag or digest');
  return { registry, repository, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
}

/** `registry/repository[:tag][@digest]`. */
export function formatReference(reference: ImageReference): string {
  return `${reference.registry}/${reference.repository}${reference.tag ? `:${reference.tag}` : ''}${reference.digest ? `@${reference.digest}` : ''}`;
}

/** Whether the host is this machine, where registries speak plain HTTP (as Docker allows). */
export function isLoopbackRegistry(registry: string): boolean {
  const host = registry.startsWith('[') ? registry.slice(1, registry.indexOf(']')) : registry.replace(/:\d+$/, '');
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

/** The host the registry API answers on (Docker Hub's API is not on docker.io itself). */
export function apiHost(registry: string): string {
  return registry === dockerHub ? 'registry-1.docker.io' : registry;
}
