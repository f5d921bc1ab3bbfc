// Per-environment deployment history, kept in the registry itself so that a rollback works from
// any machine (a CI runner, a laptop, the Slack app) with nothing but registry access.
//
// Where: one small OCI artifact per repository and environment, tagged
// `shipgate-history.<environment>` in the same repository. It is an image manifest with
// `artifactType: application/vnd.shipgate.image-history.v1+json`, the 2-byte empty config / layer
// (`{}`, the OCI "empty descriptor"), and the history as JSON in the annotation
// `io.shipgate.history`. Each entry also carries the manifest bytes it pointed at (base64), so a
// rollback can re-PUT them without first GETting the target manifest: one round trip fewer.
// Reading and writing it is one manifest GET / PUT; no blob besides the empty one is ever needed.
//
// The decisions (what to append, which digest is "the previous good one") are pure functions.
import { ShipgateError } from '../../errors.js';
import { manifestMediaTypes, sha256Digest } from '../../registry/client.js';

export const historyArtifactType = 'application/vnd.shipgate.image-history.v1+json';
export const historyAnnotation = 'io.shipgate.history';
export const emptyBlob = { mediaType: 'application/vnd.oci.empty.v1+json', digest: sha256Digest(Buffer.from('{}')), size: 2 } as const;
/** Entries kept per environment; older ones fall off (the registry still has their manifests). */
export const historyLimit = 50;

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

/** Entries that keep their manifest bytes; older ones keep the digest (a rollback there GETs it). */
export const manifestsKept = 10;

/** The new history after an action (newest first, bounded; manifest bytes only on the newest few). */
export function appendEntry(history: ImageHistory, entry: HistoryEntry, limit = historyLimit): ImageHistory {
  const entries = [entry, ...history.entries].slice(0, limit).map((e, i) => {
    if (i < manifestsKept || !e.manifest) return e;
    const { manifest: _dropped, ...rest } = e;
    return rest;
  });
  return { environment: history.environment, entries };
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
export function chooseRollbackTarget(history: ImageHistory, current: string | undefined): HistoryEntry | undefined {
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

/** The manifest bytes an entry carries, checked against its digest (undefined when absent or altered). */
export function entryManifest(entry: HistoryEntry): { bytes: Buffer; mediaType: string } | undefined {
  if (!entry.manifest) return undefined;
  const bytes = Buffer.from(entry.manifest.data, 'base64');
  return sha256Digest(bytes) === entry.digest ? { bytes, mediaType: entry.manifest.mediaType } : undefined;
}
