// The cluster lock: exclusive while its holder lives, free the moment the holder is SIGKILLed.
import { afterAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tryLock, tryPidLock } from '../src/lifecycle/lock.js';
import { runThenKill } from './helpers.js';
import { cleanupRuns, tempDir } from './runs.js';

const here = path.dirname(fileURLToPath(import.meta.url));
afterAll(cleanupRuns);

describe('cluster lock (flock)', () => {
  it('is exclusive while held and free again after release', async () => {
    const file = path.join(tempDir(), 'claim.lock');
    const first = await tryLock(file);
    expect(first).toBeDefined();
    expect(await tryLock(file)).toBeUndefined();
    await first!.release();
    const again = await tryLock(file);
    expect(again).toBeDefined();
    await again!.release();
  });

  it('is released by the kernel when its holder is SIGKILLed', async () => {
    const file = path.join(tempDir(), 'claim.lock');
    const { held } = await runThenKill<string>(path.join(here, 'fixtures/hold-lock.mjs'), [file], 60_000);
    expect(held).toBe('held');
    const mine = await tryLock(file);
    expect(mine).toBeDefined();
    await mine!.release();
  });
});

describe('cluster lock fallback (O_EXCL pid file)', () => {
  it('is exclusive while its owner lives, taken over when the owner is dead, removed on release', async () => {
    const file = path.join(tempDir(), 'claim.lock.pid');
    const lock = await tryPidLock(file);
    expect(lock).toBeDefined();
    expect(await tryPidLock(file)).toBeUndefined(); // owner (this process) alive
    await lock!.release();
    expect(existsSync(file)).toBe(false);

    writeFileSync(file, String(spawnSync('true').pid)); // an owner that has exited
    const taken = await tryPidLock(file);
    expect(taken).toBeDefined();
    await taken!.release();
  });
});
