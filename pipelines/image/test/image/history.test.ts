import { describe, expect, it } from '@jest/globals';
import {
  appendEntry,
  badDigests,
  carriedManifest,
  chooseImageRollbackTarget,
  decodeHistory,
  encodeHistory,
  historyLimit,
  historyTag,
  manifestDigestsKept,
  type HistoryEntry,
  type ImageHistory,
} from '../../src/image/history.js';
import { isImmutableTag } from '../../src/image/promote.js';
import { sha256Digest } from '../../src/oci/client.js';

const d = (n: number) => `sha256:${String(n).repeat(64).slice(0, 64)}`;
const promote = (digest: string, from?: string): HistoryEntry => ({ digest, tag: 'production', action: 'promote', at: '2026-11-30T00:00:00Z', ...(from ? { from } : {}) });
const rollback = (digest: string, from: string): HistoryEntry => ({ digest, tag: 'production', action: 'rollback', at: '2026-11-30T00:00:00Z', from });
const history = (...entries: HistoryEntry[]): ImageHistory => ({ environment: 'production', entries });

describe('chooseImageRollbackTarget', () => {
  const cases: Array<[string, ImageHistory, string | undefined, string | undefined]> = [
    ['the one before the current', history(promote(d(3), d(2)), promote(d(2), d(1)), promote(d(1))), d(3), d(2)],
    ['after a rollback, the one before that (the rolled-back one is bad)', history(rollback(d(2), d(3)), promote(d(3), d(2)), promote(d(2), d(1)), promote(d(1))), d(2), d(1)],
    ['twice rolled back: nothing left', history(rollback(d(1), d(2)), rollback(d(2), d(3)), promote(d(3)), promote(d(2)), promote(d(1))), d(1), undefined],
    ['a bad digest promoted again is good again', history(promote(d(3), d(1)), rollback(d(1), d(3)), promote(d(3), d(1)), promote(d(1))), d(3), d(1)],
    ['a re-promoted digest, then rolled back: bad once more', history(rollback(d(1), d(3)), promote(d(3), d(1)), rollback(d(1), d(3)), promote(d(3)), promote(d(1))), d(1), undefined],
    ['the tag was moved by hand to something else: the newest recorded one', history(promote(d(2)), promote(d(1))), d(9), d(2)],
    ['the tag is gone: the newest recorded one', history(promote(d(2)), promote(d(1))), undefined, d(2)],
    ['the same digest promoted twice is skipped', history(promote(d(2)), promote(d(2)), promote(d(1))), d(2), d(1)],
    ['empty history', history(), d(1), undefined],
  ];
  it.each(cases)('%s', (_name, h, current, expected) => {
    expect(chooseImageRollbackTarget(h, current)?.digest).toBe(expected);
  });

  it('badDigests', () => {
    expect([...badDigests(history(rollback(d(1), d(2)), promote(d(2))))]).toEqual([d(2)]);
  });
});

describe('history artifact', () => {
  it('encodes to an OCI artifact manifest and decodes back, newest first and bounded', () => {
    let h = history();
    for (let i = 1; i <= 60; i += 1) h = appendEntry(h, promote(d(i % 10)));
    expect(h.entries).toHaveLength(historyLimit);
    expect(historyLimit).toBe(20);
    expect(h.entries[0]!.digest).toBe(d(0));
    h = appendEntry(h, { ...promote(d(3)), manifest: { mediaType: 'm', data: 'e30=' } });
    expect(h.entries[0]!.manifest).toEqual({ mediaType: 'm', data: 'e30=' });
    const { bytes, mediaType } = encodeHistory(h);
    expect(mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
    const json = JSON.parse(bytes.toString('utf8'));
    expect(json).toMatchObject({ artifactType: 'application/vnd.shipgate.image-history.v1+json', config: { digest: sha256Digest(Buffer.from('{}')), size: 2 } });
    expect(decodeHistory('production', json.annotations, json.artifactType)).toEqual(h);
  });

  it('carries manifest bytes once per digest, for the newest three digests only', () => {
    const withBytes = (n: number): HistoryEntry => ({ ...promote(d(n)), manifest: { mediaType: 'm', data: Buffer.from(`manifest ${n}`).toString('base64') } });
    let h = history();
    // 1, 2, 1, 2, 3, 4: the newest digests are 4, 3, 2
    for (const n of [1, 2, 1, 2, 3, 4]) h = appendEntry(h, withBytes(n));
    const carrying = h.entries.filter((e) => e.manifest).map((e) => e.digest);
    expect(carrying).toEqual([d(4), d(3), d(2)]);
    expect(manifestDigestsKept).toBe(3);
    // the 2 that carries them is the newest entry of 2; the older one dropped its copy
    expect(h.entries.findIndex((e) => e.manifest && e.digest === d(2))).toBe(2);
    expect(h.entries[3]).toMatchObject({ digest: d(1) });
    expect(h.entries[3]!.manifest).toBeUndefined();
    // a realistic full history (20 deploys of distinct images, real-sized manifests) stays small
    const manifestBytes = Buffer.alloc(750, 'x').toString('base64');
    let full = history();
    for (let i = 0; i < 30; i += 1) {
      const digest = sha256Digest(Buffer.from(`image ${i}`));
      full = appendEntry(full, { digest, tag: 'production', action: 'promote', at: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(), from: full.entries[0]?.digest ?? digest, source: `orders:1.${i}.0`, by: 'ci', manifest: { mediaType: 'application/vnd.oci.image.manifest.v1+json', data: manifestBytes } });
    }
    expect(encodeHistory(full).bytes.length).toBeLessThan(10_000);
  });
  it('refuses a tag that holds something else', () => {
    expect(() => decodeHistory('production', {}, undefined)).toThrow(expect.objectContaining({ code: 'image.history-foreign' }));
    expect(() => decodeHistory('production', { 'io.shipgate.history': '{' }, 'application/vnd.shipgate.image-history.v1+json')).toThrow(expect.objectContaining({ code: 'image.history-corrupt' }));
  });

  it('finds carried manifest bytes by digest, used only when they match it', () => {
    const bytes = Buffer.from('{"schemaVersion":2}');
    const digest = sha256Digest(bytes);
    const entry: HistoryEntry = { ...promote(digest), manifest: { mediaType: 'application/vnd.oci.image.manifest.v1+json', data: bytes.toString('base64') } };
    // a newer entry of the same digest without bytes: the older entry's copy is found
    const h = history(promote(digest), promote(d(1)), entry);
    expect(carriedManifest(h, digest)?.bytes.equals(bytes)).toBe(true);
    expect(carriedManifest(h, digest)?.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
    expect(carriedManifest(h, d(1))).toBeUndefined();
    // bytes that do not hash to the digest are not used
    expect(carriedManifest(history({ ...entry, digest: d(2) }), d(2))).toBeUndefined();
  });

  it('environment names become tags; bad ones are refused', () => {
    expect(historyTag('production')).toBe('shipgate-history.production');
    expect(() => historyTag('Prod/EU')).toThrow(expect.objectContaining({ code: 'image.bad-environment' }));
  });

  it.each([
    ['1.2.3', true],
    ['v1.2.3', true],
    ['1.2.3-rc.1', true],
    ['1.2', false],
    ['production', false],
    ['sha-0123456', false],
  ])('isImmutableTag(%s) = %s', (tag, expected) => {
    expect(isImmutableTag(tag)).toBe(expected);
  });
});
