// The pglite template cache is bounded: each project keeps its newest few templates (cacheKeep),
// pruned at the start of a run; other projects' templates in a shared cache are left alone.
import { afterEach, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { prepareHarness } from '../src/harness.js';
import { cleanup, project, schema } from './helpers.js';

afterEach(cleanup);

const tars = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.tar')).sort();

describe('pglite template cache', () => {
  it('keeps the newest cacheKeep templates of a project, prunes the rest at start, and never touches other projects', async () => {
    const dir = project(schema);
    const other = project(schema);
    const cacheDir = path.join(project({}), 'cache');
    const otherRun = await prepareHarness({ provider: 'pglite', migrations: 'db/migrations', cwd: other, cacheDir });
    const otherFile = path.basename(otherRun.state.templateFile!);

    const files: string[] = [];
    for (let i = 1; i <= 4; i += 1) {
      writeFileSync(path.join(dir, `db/migrations/V2.${i}__col.sql`), `ALTER TABLE orders ADD COLUMN c${i} int;\n`);
      const run = await prepareHarness({ provider: 'pglite', migrations: 'db/migrations', cwd: dir, cacheDir, cacheKeep: 2 });
      expect(run.state.built).toBe(true);
      files.push(path.basename(run.state.templateFile!));
      // templates are ordered by their last use, to the second
      utimesSync(run.state.templateFile!, new Date(), new Date(Date.now() - (10 - i) * 1000));
    }
    expect(tars(cacheDir)).toEqual([files[2], files[3], otherFile].sort());

    // a template used again counts as new: back to the third state (reused), then a fifth is built
    unlinkSync(path.join(dir, 'db/migrations/V2.4__col.sql'));
    const again = await prepareHarness({ provider: 'pglite', migrations: 'db/migrations', cwd: dir, cacheDir, cacheKeep: 2 });
    expect({ built: again.state.built, file: path.basename(again.state.templateFile!) }).toEqual({ built: false, file: files[2] });
    writeFileSync(path.join(dir, 'db/migrations/V2.5__col.sql'), 'ALTER TABLE orders ADD COLUMN c5 int;\n');
    const fifth = await prepareHarness({ provider: 'pglite', migrations: 'db/migrations', cwd: dir, cacheDir, cacheKeep: 2 });
    expect(tars(cacheDir)).toEqual([files[2], path.basename(fifth.state.templateFile!), otherFile].sort());
  }, 180_000);

  it('keeps three by default, SHIPGATE_TEST_CACHE_KEEP overrides it, and half-written dumps of dead writers go', async () => {
    const dir = project(schema);
    const cacheDir = path.join(project({}), 'cache');
    // what a SIGKILL while writing a dump leaves, and a dump another live process is writing
    mkdirSync(cacheDir, { recursive: true });
    const key = 'ab'.repeat(12);
    const deadWriter = `pglite-0badc0de-${key}.tar.${spawnSync('true').pid}.0f0e0d0c-0b0a-4908-8706-050403020100.tmp`;
    const liveWriter = `pglite-0badc0de-${key}.tar.${process.pid}.0f0e0d0c-0b0a-4908-8706-050403020101.tmp`;
    for (const name of [deadWriter, liveWriter]) writeFileSync(path.join(cacheDir, name), 'partial');
    process.env.SHIPGATE_TEST_CACHE_KEEP = '1';
    try {
      for (let i = 1; i <= 2; i += 1) {
        writeFileSync(path.join(dir, `db/migrations/V2.${i}__col.sql`), `ALTER TABLE orders ADD COLUMN c${i} int;\n`);
        await prepareHarness({ provider: 'pglite', migrations: 'db/migrations', cwd: dir, cacheDir });
      }
      expect(tars(cacheDir)).toHaveLength(1);
      expect(readdirSync(cacheDir).filter((f) => f.endsWith('.tmp'))).toEqual([liveWriter]);
    } finally {
      delete process.env.SHIPGATE_TEST_CACHE_KEEP;
    }
    for (let i = 3; i <= 6; i += 1) {
      writeFileSync(path.join(dir, `db/migrations/V2.${i}__col.sql`), `ALTER TABLE orders ADD COLUMN c${i} int;\n`);
      await prepareHarness({ provider: 'pglite', migrations: 'db/migrations', cwd: dir, cacheDir });
    }
    expect(tars(cacheDir)).toHaveLength(3);
  }, 180_000);
});
