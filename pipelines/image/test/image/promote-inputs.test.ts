// Input mistakes are refused before any registry is contacted (the fetch given here would fail the test).
import { describe, expect, it } from '@jest/globals';
import { promoteImage, readImageHistory, rollbackImage } from '../../src/image/promote.js';

const noNetwork = (): Promise<Response> => {
  throw new Error('no request may be sent for a bad input');
};

describe('promote / rollback inputs', () => {
  it.each([
    [{ source: 'r.example/orders', tag: 'production' }, 'image.bad-reference', 'names no tag or digest'],
    [{ source: 'r.example/orders:v1', tag: 'bad tag' }, 'image.bad-tag', '--tag "bad tag"'],
    [{ source: 'r.example/orders:v1', tag: 'shipgate-history.production' }, 'image.bad-tag', 'reserved'],
    [{ source: 'r.example/orders:v1', tag: 'production', repository: 'other.example/orders' }, 'image.cross-registry', 'within one registry'],
    [{ source: 'r.example/orders:v1', tag: 'production', repository: 'orders:v2' }, 'image.bad-reference', 'without tag or digest'],
    [{ source: 'r.example/orders:v1', tag: 'production', environment: 'Prod EU' }, 'image.bad-environment', '"Prod EU"'],
  ])('promote %j → %s', async (options, code, message) => {
    await expect(promoteImage({ ...options, fetch: noNetwork })).rejects.toMatchObject({ code, message: expect.stringContaining(message), exitCode: 2 });
  });

  it('rollback and history take a repository, not a tag', async () => {
    await expect(rollbackImage({ repository: 'r.example/orders:v1', environment: 'production', fetch: noNetwork })).rejects.toMatchObject({ code: 'image.bad-reference' });
    await expect(readImageHistory({ repository: 'r.example/orders', environment: 'a/b', fetch: noNetwork })).rejects.toMatchObject({ code: 'image.bad-environment' });
  });
});
