// The after-the-run check finds what no later run would reap, and nothing else.
import { afterAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { findLeftovers } from './leftovers.js';
import { cleanupRuns, tempDir } from './runs.js';

afterAll(cleanupRuns);

describe('leftovers check', () => {
  it('reports a cluster folder of a dead run in a temp folder, and not one whose run is alive', async () => {
    const deadPid = spawnSync('true').pid!; // exited: a pid nobody holds
    const dir = tempDir();
    const dead = path.join(dir, `pg15-run-${deadPid}`);
    const live = path.join(dir, `pg15-run-${process.pid}`);
    for (const d of [dead, live]) {
      mkdirSync(d);
      writeFileSync(path.join(d, 'claim.lock'), '');
    }
    const problems = findLeftovers();
    expect(problems).toContain(`cluster folder ${dead}: its run is gone, and no later run looks there`);
    expect(problems.join('\n')).not.toContain(live);
    await cleanupRuns();
    expect(findLeftovers().join('\n')).not.toContain(dir);
  });
});
