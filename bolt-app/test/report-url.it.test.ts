// The run's report page on the deployment message: a pipeline may send `reportUrl` with a
// deployment (POST /api/deployments); only http(s) URLs are taken, it is kept in the store
// (migration 3) and shown as a "Report" link, escaped so it cannot break out of Slack's link syntax.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { deploymentRequestSchema } from '../src/approvals/model.js';
import { deploymentMessage } from '../src/slack/messages.js';
import { migrate } from '../src/store/migrations.js';
import { openPglite, type SqlDatabase } from '../src/store/sql.js';
import { Store } from '../src/store/store.js';

const base = { service: 'orders', environment: 'prod', version: '1.4.2', outcome: 'succeeded' as const };

describe('reportUrl of a deployment', () => {
  it.each([
    ['an https page', 'https://ci.example.com/job/orders/42/shipgate/', true],
    ['an http page', 'http://jenkins.internal:8080/job/orders/42/artifact/.shipgate/jenkins/report.html', true],
    ['javascript:', 'javascript:alert(1)', false],
    ['ftp:', 'ftp://files.example.com/report.html', false],
    ['not a URL', 'not a url', false],
    ['over 2000 characters', `https://x.example/${'a'.repeat(2000)}`, false],
    ['a URL that would close the Slack link', 'https://ci.example.com/r?a=1|x', false],
    ['a URL carrying a mention', 'https://ci.example.com/r?b=<!channel>', false],
  ])('%s', (_name, reportUrl, ok) => {
    const parsed = deploymentRequestSchema.safeParse({ ...base, reportUrl });
    expect(parsed.success).toBe(ok);
    if (!ok && reportUrl.startsWith('javascript')) expect(parsed.error?.issues[0]?.message).toBe('an http(s) URL without spaces, "<", ">" or "|"');
  });

  let dir: string;
  let db: SqlDatabase;
  let store: Store;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'sg-report-url-'));
    db = await openPglite(dir);
    await migrate(db);
    store = new Store(db);
  }, 60_000);
  afterAll(async () => {
    await db?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is stored with the deployment and linked from its message, escaped', async () => {
    const reportUrl = 'https://ci.example.com/r?a=1&b=2';
    const request = deploymentRequestSchema.parse({ ...base, reportUrl });
    const recorded = await store.deployments.record(request, { channel: null, now: new Date('2026-01-01T00:00:00Z') });
    const read = await store.deployments.get(recorded.id);
    expect(read?.reportUrl).toBe(reportUrl);
    const fields = JSON.stringify(deploymentMessage(read!, undefined).blocks);
    expect(fields).toContain('*Report*\\n<https://ci.example.com/r?a=1&amp;b=2|run report>');
  });

  it('a deployment without one has no Report field', async () => {
    const recorded = await store.deployments.record(deploymentRequestSchema.parse(base), { channel: null, now: new Date('2026-01-01T00:01:00Z') });
    expect(recorded.reportUrl).toBeNull();
    expect(JSON.stringify(deploymentMessage(recorded, undefined).blocks)).not.toContain('*Report*');
  });
});
