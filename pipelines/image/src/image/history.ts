// Per-environment deployment history, kept in the registry itself so that a rollback works from
// any machine (a CI runner, a laptop, the Slack app) with nothing but registry access.
//
// Where: one small OCI artifact per repository and environment, tagged
// `shipgate-history.<environment>` in the same repository. It is an image manifest with
// `artifactType: application/vnd.shipgate.image-history.v1+json`, the 2-byte empty config / layer
// (`{}`, the OCI "empty descriptor"), and the history as JSON in the annotation
// `io.shipgate.history`. The newest few digests also carry their manifest bytes (base64), so a
// rollback can re-PUT them without first GETting the target manifest: one round trip fewer.
// Reading and writing it is one manifest GET / PUT; no blob besides the empty one is ever needed.
//
// Size is time: the registry parses every manifest it is sent, and both the read and the write of
// the history are on every promote's path. On a local docker-registry each KB of history costs
// about 0.1 ms per promote, so the artifact is kept small: 20 entries, and manifest bytes once per
// digest for the 3 newest digests only (about 8 KB, where 50 entries with bytes on the newest 10
// were 24 KB).
//
// The decisions (what to append, which digest is "the previous good one") are pure functions.
import { ShipgateError } from '@shipgate/protocol';
import { manifestMediaTypes, sha256Digest } from '../oci/client.js';

export const historyArtifactType = 'application/vnd.shipgate.image-history.v1+json';
export const historyAnnotation = 'io.shipgate.history';
export const emptyBlob = { mediaType: 'application/vnd.oci.empty.v1+json', digest: sha256Digest(Buffer.from('{}')), size: 2 } as const;
/**
 * Entries kept per environment; older ones fall off (the registry still has their manifests).
 * Kubernetes and Argo CD keep 10 revisions by default; 20 covers any rollback anyone makes.
 */
export const historyLimit = 20;

export interface HistoryEntry {
  /** The manifest digest the tag pointed at after this action. */
  digest: string;
  tag: string;
  action: 'promote' | 'rollback';
  /** ISO time. */
  at: string;
  /** The digest the tag pointed at before (absent when the tag was new). */
  from?: string;
  /** Who or what did it (CI actor, Slack user). */
  by?: string;
  /** Where the image came from, e.g. `orders:1.2.3`. */
  source?: string;
  /** The manifest's media type and bytes (base64), so a rollback can re-PUT it directly. */
  manifest?: { mediaType: string; data: string };
}

export interface ImageHistory {
  environment: string;
  /** Newest first. */
  entries: HistoryEntry[];
}

const environmentPattern = /^[a-z0-9][a-z0-9_.-]{0,100}$/;

export function historyTag(environment: string): string {
  if (!environmentPattern.test(environment)) {
    throw new ShipgateError('image.bad-environment', `environment "${environment}" must be lower-case letters, digits, "_", "." or "-" (at most 101)`, {
      hint: 'e.g. --env production',
    });
  }
  return `shipgate-history.${environment}`;
}

/**
 * Digests whose manifest bytes the history carries: the newest three distinct ones, i.e. what the
 * tag points at and the next two rollback targets. Older targets are GET from the registry.
 */
export const manifestDigestsKept = 3;

/** The new history after an action (newest first, bounded; manifest bytes once per newest digest). */
export function appendEntry(history: ImageHistory, entry: HistoryEntry, limit = historyLimit): ImageHistory {
  const entries = [entry, ...history.entries].slice(0, limit);
  const kept = new Set([...new Set(entries.map((e) => e.digest))].slice(0, manifestDigestsKept));
  const carried = new Set<string>();
  return {
    environment: history.environment,
    entries: entries.map((e) => {
      if (!e.manifest) return e;
      if (kept.has(e.digest) && !carried.has(e.digest)) {
        carried.add(e.digest);
        return e;
      }
      const { manifest: _dropped, ...rest } = e;
      return rest;
    }),
  };
}

/**
 * Digests that were rolled back away from and not promoted again since: walking from the newest
 * entry, a rollback's `from` is bad unless a newer promote put that digest back on purpose.
 */
export function badDigests(history: ImageHistory): Set<string> {
  const bad = new Set<string>();
  const promotedSince = new Set<string>();
  for (const entry of history.entries) {
    if (entry.action === 'promote') promotedSince.add(entry.digest);
    if (entry.action === 'rollback' && entry.from && !promotedSince.has(entry.from)) bad.add(entry.from);
  }
  return bad;
}

/**
 * "The previous good one": the newest entry whose digest is neither what the tag points at now
 * nor one that was rolled back away from. Undefined when there is none.
 */
export function chooseImageRollbackTarget(history: ImageHistory, current: string | undefined): HistoryEntry | undefined {
  const bad = badDigests(history);
  return history.entries.find((entry) => entry.digest !== current && !bad.has(entry.digest));
}

/** The artifact manifest that stores a history (bytes and media type to PUT). */
export function encodeHistory(history: ImageHistory): { bytes: Buffer; mediaType: string } {
  const manifest = {
    schemaVersion: 2,
    mediaType: manifestMediaTypes.ociManifest,
    artifactType: historyArtifactType,
    config: emptyBlob,
    layers: [emptyBlob],
    annotations: {
      [historyAnnotation]: JSON.stringify({ version: 1, environment: history.environment, entries: history.entries }),
      'org.opencontainers.image.title': `shipgate deployment history of ${history.environment}`,
    },
  };
  return { bytes: Buffer.from(JSON.stringify(manifest)), mediaType: manifestMediaTypes.ociManifest };
}

/** Reads a history artifact; a manifest that is not one is an error (someone else owns that tag). */
export function decodeHistory(environment: string, annotations: Record<string, string> | undefined, artifactType: string | undefined): ImageHistory {
  const text = annotations?.[historyAnnotation];
  if (artifactType !== historyArtifactType || text === undefined) {
    throw new ShipgateError('image.history-foreign', `the tag ${historyTag(environment)} holds something that is not a shipgate history`, {
      hint: 'that tag name is reserved for shipgate; rename the image that uses it',
    });
  }
  let parsed: { entries?: unknown };
  try {
    parsed = JSON.parse(text) as { entries?: unknown };
  } catch {
    throw new ShipgateError('image.history-corrupt', `the history in ${historyTag(environment)} is not valid JSON`, {
      hint: 'delete the tag to start a new history; the images themselves are unaffected',
    });
  }
  const entries = Array.isArray(parsed.entries) ? (parsed.entries as HistoryEntry[]).filter((e) => typeof e?.digest === 'string' && typeof e.tag === 'string') : [];
  return { environment, entries };
}

/**
 * The manifest bytes the history carries for a digest (on whichever entry holds them), checked
 * against the digest; undefined when absent or altered.
 */
export function carriedManifest(history: ImageHistory, digest: string): { bytes: Buffer; mediaType: string } | undefined {
  for (const entry of history.entries) {
    if (entry.digest !== digest || !entry.manifest) continue;
    const bytes = Buffer.from(entry.manifest.data, 'base64');
    if (sha256Digest(bytes) === digest) return { bytes, mediaType: entry.manifest.mediaType };
  }
  return undefined;
}
