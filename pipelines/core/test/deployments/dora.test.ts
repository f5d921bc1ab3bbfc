// The DORA computation as a table: each row a small history and the metrics it must give.
import { describe, expect, it } from '@jest/globals';
import { computeDora, parseDoraWindow, type DoraDeployment, type DoraMetrics } from '../../src/deployments/dora.js';
import { formatDoraDuration, formatDoraTable } from '../../src/deployments/dora-table.js';

const now = new Date('2026-03-31T00:00:00Z');
const hour = 3_600_000;
/** `h` hours before `now`, as ISO text. */
const ago = (h: number) => new Date(now.getTime() - h * hour).toISOString();
const dep = (over: Partial<DoraDeployment> & Pick<DoraDeployment, 'version' | 'at'>): DoraDeployment => ({ service: 'orders', environment: 'prod', outcome: 'succeeded', ...over });

type Expected = Partial<Omit<DoraMetrics, 'service' | 'environment'>>;
const cases: Array<{ name: string; history: DoraDeployment[]; expected: Expected; fixForwardMs?: number }> = [
  {
    name: 'counts successful changes and their rate per day of the window',
    history: [dep({ version: 'v1', at: ago(100) }), dep({ version: 'v2', at: ago(50) }), dep({ version: 'v3', at: ago(10) })],
    expected: { changes: 3, deployments: 3, deploymentsPerDay: 3 / 30, failures: 0, changeFailureRate: 0, timeToRestore: null, unrestored: 0 },
  },
  {
    name: 'lead time runs from the commit to the success; median and p90 by nearest rank',
    history: [
      dep({ version: 'v1', at: ago(100), commitAt: ago(101) }),
      dep({ version: 'v2', at: ago(50), commitAt: ago(53) }),
      dep({ version: 'v3', at: ago(10), commitAt: ago(12) }),
      dep({ version: 'v4', at: ago(5) }),
    ],
    expected: { leadTime: { count: 3, medianSeconds: 2 * 3600, p90Seconds: 3 * 3600 }, leadTimesSeconds: [3600, 3 * 3600, 2 * 3600] },
  },
  {
    name: 'a failed deployment is a failed change, restored by the next success',
    history: [dep({ version: 'v1', at: ago(20) }), dep({ version: 'v2', at: ago(10), outcome: 'failed' }), dep({ version: 'v3', at: ago(6) })],
    expected: { changes: 3, deployments: 2, failures: 1, changeFailureRate: 1 / 3, timeToRestore: { count: 1, medianSeconds: 4 * 3600, p90Seconds: 4 * 3600 }, unrestored: 0 },
  },
  {
    name: 'a deployment that rolled itself back (same version) is a failed change, not restored until the next success',
    history: [dep({ version: 'v1', at: ago(20) }), dep({ version: 'v2', at: ago(10), outcome: 'rolled-back' })],
    expected: { changes: 2, deployments: 1, failures: 1, changeFailureRate: 0.5, timeToRestore: null, unrestored: 1 },
  },
  {
    name: '`shipgate rollback` (rolled-back, naming the earlier version) fails the change before it and restores it',
    history: [dep({ version: 'v1', at: ago(20) }), dep({ version: 'v2', at: ago(10) }), dep({ version: 'v1', at: ago(9), outcome: 'rolled-back' })],
    expected: { changes: 2, deployments: 2, failures: 1, changeFailureRate: 0.5, timeToRestore: { count: 1, medianSeconds: 3600, p90Seconds: 3600 }, unrestored: 0 },
  },
  {
    name: "the Slack app's Rollback (a restore record) fails the change it undid; the restore is not a deployment",
    history: [dep({ version: 'v1', at: ago(20) }), dep({ version: 'v2', at: ago(10) }), dep({ version: 'v1', at: ago(9.5), restore: true })],
    expected: { changes: 2, deployments: 2, failures: 1, timeToRestore: { count: 1, medianSeconds: 1800, p90Seconds: 1800 } },
  },
  {
    name: 'a change within the fix-forward window after a success marks that success as failed',
    history: [dep({ version: 'v1', at: ago(20) }), dep({ version: 'v2', at: ago(10) }), dep({ version: 'v2.0.1', at: ago(9.75) })],
    expected: { changes: 3, failures: 1, changeFailureRate: 1 / 3, timeToRestore: { count: 1, medianSeconds: 900, p90Seconds: 900 } },
  },
  {
    name: 'the fix-forward window can be turned off (0)',
    history: [dep({ version: 'v1', at: ago(20) }), dep({ version: 'v2', at: ago(10) }), dep({ version: 'v2.0.1', at: ago(9.75) })],
    fixForwardMs: 0,
    expected: { changes: 3, failures: 0, changeFailureRate: 0 },
  },
  {
    name: 'deployments before the window are history only: they restore nothing in it and are not counted',
    history: [dep({ version: 'v0', at: ago(31 * 24) }), dep({ version: 'v1', at: ago(31 * 24 - 0.5) }), dep({ version: 'v2', at: ago(3) })],
    expected: { changes: 1, deployments: 1, failures: 0 },
  },
  {
    name: 'a commit time after the deployment (clock skew) gives no lead time rather than a negative one',
    history: [dep({ version: 'v1', at: ago(10), commitAt: ago(9) })],
    expected: { leadTime: null, leadTimesSeconds: [] },
  },
];

describe('computeDora', () => {
  it.each(cases)('$name', ({ history, expected, fixForwardMs }) => {
    const report = computeDora(history, { now, ...(fixForwardMs === undefined ? {} : { fixForwardMs }) });
    expect(report.groups).toHaveLength(1);
    expect(report.groups[0]).toMatchObject({ service: 'orders', environment: 'prod', ...expected });
  });

  it('keeps services and environments apart, sorted, and leaves out groups with no change in the window', () => {
    const report = computeDora(
      [
        dep({ service: 'web', version: 'w1', at: ago(5) }),
        dep({ version: 'v1', at: ago(5), environment: 'staging' }),
        dep({ version: 'v2', at: ago(4), outcome: 'failed' }),
        dep({ service: 'old', version: 'o1', at: ago(40 * 24) }),
      ],
      { now },
    );
    expect(report.groups.map((g) => [g.service, g.environment, g.changes, g.failures])).toEqual([
      ['orders', 'prod', 1, 1],
      ['orders', 'staging', 1, 0],
      ['web', 'prod', 1, 0],
    ]);
    expect(report).toMatchObject({ from: '2026-03-01T00:00:00.000Z', to: '2026-03-31T00:00:00.000Z', windowDays: 30, fixForwardSeconds: 3600 });
  });

  it('takes the window length and accepts Date values; unparsable times are skipped', () => {
    const report = computeDora([dep({ version: 'v1', at: new Date(now.getTime() - 2 * hour), commitAt: new Date(now.getTime() - 3 * hour) }), dep({ version: 'v2', at: 'not a time' })], { now, windowMs: 7 * 24 * hour });
    expect(report.windowDays).toBe(7);
    expect(report.groups[0]).toMatchObject({ changes: 1, deploymentsPerDay: 1 / 7, leadTime: { count: 1, medianSeconds: 3600 } });
  });

  it('gives nothing for an empty history', () => {
    expect(computeDora([], { now }).groups).toEqual([]);
  });
});

describe('parseDoraWindow', () => {
  it.each([
    ['30d', 30 * 24 * hour],
    ['2w', 14 * 24 * hour],
    ['12h', 12 * hour],
    ['90m', 1.5 * hour],
    ['1w3d', 10 * 24 * hour],
    [' 1.5d ', 36 * hour],
  ])('%s is %d ms', (text, ms) => {
    expect(parseDoraWindow(text)).toBe(ms);
  });

  it.each(['', '30', 'd', '30days', '-1d', '30s', '0d'])('refuses %j with a hint', (text) => {
    expect(() => parseDoraWindow(text)).toThrow(expect.objectContaining({ code: 'deployments.window', hint: expect.stringContaining('30d') }));
  });
});

describe('formatDoraTable', () => {
  it('prints one aligned row per service and environment with people-sized durations', () => {
    const report = computeDora(
      [dep({ version: 'v1', at: ago(30), commitAt: ago(33) }), dep({ version: 'v2', at: ago(20), commitAt: ago(20.5), outcome: 'failed' }), dep({ version: 'v3', at: ago(1), commitAt: ago(50) })],
      { now },
    );
    expect(formatDoraTable(report)).toEqual([
      'service  environment  deploys  frequency  lead time (median)       change failure  time to restore (median)',
      'orders   prod         2        2.0/30d    3h 00m (p90 2d 1h, n=2)  33% (1/3)       19h 00m (p90 19h 00m, n=1)',
    ]);
  });

  it.each([
    [45, '45s'],
    [600, '10m'],
    [3 * 3600 + 5 * 60, '3h 05m'],
    [2 * 86_400 + 4 * 3600 + 59, '2d 4h'],
  ])('formatDoraDuration(%d) is %s', (seconds, text) => {
    expect(formatDoraDuration(seconds)).toBe(text);
  });
});

describe('computeDora on a real release history', () => {
  // Derived from the release tags of tj/commander.js (2023-10 → 2026-05): each `vX.Y.Z` tag as a
  // deployment to `npm` (prereleases to `next`) at the tag's date, with the tagged commit's commit
  // time as read by commitTimeOf. Lightweight tags carry the commit's own date (lead time 0);
  // annotated ones were made minutes to hours after it.
  const releases: Array<[version: string, at: string, commitAt: string]> = [
    ['v11.1.0', '2023-10-13T09:27:03+09:00', '2023-10-13T09:27:03+09:00'],
    ['v12.0.0-0', '2023-11-11T18:28:12+13:00', '2023-11-11T18:28:12+13:00'],
    ['v12.0.0-1', '2024-01-20T09:07:40+13:00', '2024-01-20T09:07:40+13:00'],
    ['v12.0.0', '2024-02-03T22:10:52+13:00', '2024-02-03T22:10:52+13:00'],
    ['v12.1.0', '2024-05-18T20:15:32+09:00', '2024-05-18T20:15:32+09:00'],
    ['v13.0.0-0', '2024-12-07T12:11:24+13:00', '2024-12-07T12:10:32+13:00'],
    ['v13.0.0', '2024-12-30T14:25:32+09:00', '2024-12-30T14:25:32+09:00'],
    ['v13.1.0', '2025-01-21T08:28:01+09:00', '2025-01-21T08:28:00+09:00'],
    ['v14.0.0', '2025-05-17T10:18:43+12:00', '2025-05-17T10:18:43+12:00'],
    ['v14.0.1', '2025-09-12T17:54:43+12:00', '2025-09-12T17:54:43+12:00'],
    ['v14.0.2', '2025-10-25T21:04:15+09:00', '2025-10-25T21:04:15+09:00'],
    ['v14.0.3', '2026-01-31T10:45:09+09:00', '2026-01-31T10:45:09+09:00'],
    ['v15.0.0-0', '2026-02-21T20:13:01+13:00', '2026-02-21T17:03:02+13:00'],
    ['v15.0.0', '2026-05-29T21:03:21+12:00', '2026-05-29T21:03:21+12:00'],
  ];
  const history = releases.map(([version, at, commitAt]) => ({ service: 'commander', environment: version.includes('-') ? 'next' : 'npm', version, outcome: 'succeeded' as const, at, commitAt }));

  it('reads offsets from four time zones, and counts a release 22 days after the previous one as its fix-forward with a 30-day window', () => {
    const report = computeDora(history, { now: new Date('2026-06-01T00:00:00Z'), windowMs: 990 * 24 * hour, fixForwardMs: 30 * 24 * hour });
    expect(report.groups).toEqual([
      expect.objectContaining({ environment: 'next', changes: 4, failures: 0, leadTime: { count: 4, medianSeconds: 0, p90Seconds: 3 * 3600 + 9 * 60 + 59 }, leadTimesSeconds: [0, 0, 52, 11_399] }),
      // v13.0.0 (30 Dec) → v13.1.0 (21 Jan, 21 d 18 h 02 min 29 s later)
      expect.objectContaining({ environment: 'npm', changes: 10, deployments: 10, failures: 1, changeFailureRate: 0.1, leadTime: { count: 10, medianSeconds: 0, p90Seconds: 0 }, timeToRestore: { count: 1, medianSeconds: 1_879_349, p90Seconds: 1_879_349 } }),
    ]);
    // with the default one-hour window none of these releases is a fix-forward
    expect(computeDora(history, { now: new Date('2026-06-01T00:00:00Z'), windowMs: 990 * 24 * hour }).groups.map((g) => g.failures)).toEqual([0, 0]);
  });
});
