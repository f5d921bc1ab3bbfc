// The journal file PGlite's app keeps acknowledged Slack requests in until their listeners ran: what
// a new process finds open in it, a line cut short by a crash, and that it empties itself.
import { afterEach, describe, expect, it } from '@jest/globals';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FileInbox } from '../src/store/inbox.js';

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function journal(): string {
  dir = mkdtempSync(path.join(os.tmpdir(), 'sg-inbox-'));
  return path.join(dir, 'inbox.jsonl');
}

describe('FileInbox', () => {
  it('a new process gets back, in order and once, what the last one acknowledged and never finished', async () => {
    const file = journal();
    const before = new FileInbox(file);
    const ids = await before.record([{ n: 1 }, { n: 2 }, { n: 3 }]);
    expect(ids).toEqual([1, 2, 3]);
    await before.finished([2]);
    // the process dies here: nothing is closed or flushed by hand
    const after = new FileInbox(file);
    expect(await after.takeOver({ atStart: true })).toEqual([
      { id: 1, body: { n: 1 } },
      { id: 3, body: { n: 3 } },
    ]);
    expect(await after.takeOver({ atStart: true })).toEqual([]);
    expect(await after.takeOver({ atStart: false })).toEqual([]);
    // new ids go on after the old ones
    expect(await after.record([{ n: 4 }])).toEqual([4]);
    // one request at a time, written before the call returns
    expect(after.recordNow({ n: 5 })).toBe(5);
    expect(readFileSync(file, 'utf8').trim().split('\n').at(-1)).toBe('{"id":5,"body":{"n":5}}');
    before.close();
    after.close();
  });

  it('ignores a line a crash cut short (that request never got its ack)', async () => {
    const file = journal();
    const inbox = new FileInbox(file);
    await inbox.record([{ n: 1 }]);
    inbox.close();
    appendFileSync(file, '{"id":2,"body":{"n"');
    const next = new FileInbox(file);
    expect(await next.takeOver({ atStart: true })).toEqual([{ id: 1, body: { n: 1 } }]);
    next.close();
  });

  it('starts over once nothing is open, so it never grows past one burst', async () => {
    const file = journal();
    const inbox = new FileInbox(file);
    const ids = await inbox.record(Array.from({ length: 50 }, (_, n) => ({ n, pad: 'x'.repeat(500) })));
    await inbox.finished(ids.slice(0, 49));
    expect(statSync(file).size).toBeGreaterThan(25_000);
    await inbox.finished(ids.slice(49));
    expect(statSync(file).size).toBe(0);
    expect(await inbox.record([{ n: 'next' }])).toEqual([51]);
    expect(readFileSync(file, 'utf8')).toBe('{"id":51,"body":{"n":"next"}}\n');
    inbox.close();
    const last = new FileInbox(file);
    expect(await last.takeOver({ atStart: true })).toEqual([{ id: 51, body: { n: 'next' } }]);
    last.close();
  });
});
