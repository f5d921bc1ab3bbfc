// Database names that carry their owner: the reaper attributes a database from its name alone.
import { describe, expect, it } from '@jest/globals';
import { markedName, ownerOf } from '../src/lifecycle/names.js';

describe('marked database names', () => {
  const owner = { host: '0a7c9c', pid: 4194304, run: 'mj3k2x1pa1b2c3', what: '1234' };

  it('round-trip the owner and fit in a Postgres name', () => {
    const name = markedName(owner);
    expect(name).toMatch(/^shipgate_t_0a7c9c_4194304_mj3k2x1pa1b2c3_1234_[0-9a-f]{8}$/);
    expect(name.length).toBeLessThanOrEqual(63);
    expect(ownerOf(name)).toEqual(owner);
    expect(ownerOf(markedName({ ...owner, what: 'b1' }))).toEqual({ ...owner, what: 'b1' });
  });

  it.each([
    ['a name typed by hand in the same shape', 'shipgate_t_0a7c9c_1_abc_1_00000000'],
    ['a mark with one character changed', markedName(owner).replace('_1234_', '_1235_')],
    ['the old unmarked clone names', 'shipgate_t_0a7c9c_31172_2'],
    ['a template', 'shipgate_tpl_4108b265efae46e2d31901e2'],
    ['anything else', 'orders_test'],
  ])('%s is not ours', (_what, name) => {
    expect(ownerOf(name)).toBeUndefined();
  });

  it('refuses to mark with parts that would not parse back', () => {
    expect(() => markedName({ ...owner, run: 'Has_Underscore' })).toThrow();
  });
});
