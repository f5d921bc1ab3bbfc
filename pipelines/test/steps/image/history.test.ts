import { describe, expect, it } from '@jest/globals';
import { appendEntry, badDigests, chooseRollbackTarget, decodeHistory, encodeHistory, entryManifest, historyTag, type HistoryEntry, type ImageHistory } from '../../../src/steps/image/history.js';
import { isImmutableTag } from '../../../src/steps/image/promote.js';
import { sha256Digest } from '../../../src/registry/client.js';

const d = (n: number) => `sha256:${String(n).repeat(64).slice(0, 64)}`;
const promote = (digest: string, from?: string): HistoryEntry => ({ digest, tag: 'production', action: 'promote', at: '2026-11-30T00:00:00Z', ...(from ? { from } : {}) });
const rollback = (digest: string, from: string): HistoryEntry => ({ digest, tag: 'production', action: 'rollback', at: '2026-11-30T00:00:00Z', from });
const history = (...entries: HistoryEntry[]): ImageHistory => ({ environment: 'production', entries });

describe('chooseRollbackTarget', () => {
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
    expect(chooseRollbackTarget(h, current)?.digest).toBe(expected);
  });

  it('badDigests', () => {
    expect([...badDigests(history(rollback(d(1), d(2)), promote(d(2))))]).toEqual([d(2)]);
  });
});

describe('history artifact', () => {
  it('encodes to an OCI artifact manifest and decodes back, newest first and bounded', () => {
    let h = history();
    for (let i = 1; i <= 60; i += 1) h = appendEntry(h, promote(d(i % 10)));
    expect(h.entries).toHaveLength(50);
    h = appendEntry(h, { ...promote(d(1)), manifest: { mediaType: 'm', data: 'e30=' } });
    for (let i = 0; i < 10; i += 1) h = appendEntry(h, promote(d(2)));
    expect(h.entries[10]).toMatchObject({ digest: d(1) });
    expect(h.entries[10]!.manifest).toBeUndefined();
    h = appendEntry(h, { ...promote(d(3)), manifest: { mediaType: 'm', data: 'e30=' } });
    expect(h.entries[0]!.manifest).toEqual({ mediaType: 'm', data: 'e30=' });
    const { bytes, mediaType } = encodeHistory(h);
    expect(mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
    const json = JSON.parse(bytes.toString('utf8'));
    expect(json).toMatchObject({ artifactType: 'application/vnd.shipgate.image-history.v1+json', config: { digest: sha256Digest(Buffer.from('{}')), size: 2 } });
    expect(decodeHistory('production', json.annotations, json.artifactType)).toEqual(h);
  });

  it('refuses a tag that holds something else', () => {
    expect(() => decodeHistory('production', {}, undefined)).toThrow(expect.objectContaining({ code: 'image.history-foreign' }));
    expect(() => decodeHistory('production', { 'io.shipgate.history': '{' }, 'application/vnd.shipgate.image-history.v1+json')).toThrow(expect.objectContaining({ code: 'image.history-corrupt' }));
  });

  it('carries manifest bytes, used only when they match the digest', () => {
    const bytes = Buffer.from('{"schemaVersion":2}');
    const entry: HistoryEntry = { ...promote(sha256Digest(bytes)), manifest: { mediaType: 'application/vnd.oci.image.manifest.v1+json', data: bytes.toString('base64') } };
    expect(entryManifest(entry)?.bytes.equals(bytes)).toBe(true);
    expect(entryManifest({ ...entry, digest: d(1) })).toBeUndefined();
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
