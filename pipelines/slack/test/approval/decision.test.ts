import { describe, expect, it } from '@jest/globals';
import { defaultIdempotencyKey, nextMove, parseApprovalStatus, waitDeadline, type ApprovalStatus } from '../../src/approval/decision.js';

const now = Date.parse('2026-12-01T08:00:00Z');

describe('nextMove', () => {
  const cases: [string, ApprovalStatus, number, number, ReturnType<typeof nextMove>][] = [
    ['approved', { id: 'a', state: 'approved', decidedBy: 'U1', decidedAt: '2026-12-01T07:59:00Z' }, now + 60_000, 60, { kind: 'approved', decidedBy: 'U1', decidedAt: '2026-12-01T07:59:00Z' }],
    ['rejected with reason', { id: 'a', state: 'rejected', decidedBy: 'U2', reason: ' not today ' }, now + 60_000, 60, { kind: 'rejected', decidedBy: 'U2', reason: 'not today' }],
    ['rejected without reason', { id: 'a', state: 'rejected', decidedBy: 'U2' }, now + 60_000, 60, { kind: 'rejected', decidedBy: 'U2', reason: 'no reason given' }],
    ['expired', { id: 'a', state: 'expired' }, now + 60_000, 60, { kind: 'expired' }],
    ['pending, plenty of time', { id: 'a', state: 'pending' }, now + 3_600_000, 60, { kind: 'wait', waitSeconds: 60 }],
    ['pending, poll shorter than the time left', { id: 'a', state: 'pending' }, now + 3_600_000, 5, { kind: 'wait', waitSeconds: 5 }],
    ['pending, poll capped at 60', { id: 'a', state: 'pending' }, now + 3_600_000, 600, { kind: 'wait', waitSeconds: 60 }],
    ['pending, 12.5 s left', { id: 'a', state: 'pending' }, now + 12_500, 60, { kind: 'wait', waitSeconds: 13 }],
    ['pending, under a second left', { id: 'a', state: 'pending' }, now + 400, 60, { kind: 'wait', waitSeconds: 1 }],
    ['pending, deadline now', { id: 'a', state: 'pending' }, now, 60, { kind: 'timed-out' }],
    ['pending, past the deadline', { id: 'a', state: 'pending' }, now - 1, 60, { kind: 'timed-out' }],
  ];
  it.each(cases)('%s', (_name, status, deadline, poll, expected) => {
    expect(nextMove(status, now, deadline, poll)).toEqual(expected);
  });
});

describe('parseApprovalStatus', () => {
  it.each([
    [{ id: 'a', state: 'approved', decidedBy: 'U1', extra: 1 }, { id: 'a', state: 'approved', decidedBy: 'U1' }],
    [{ id: 'a', state: 'maybe' }, undefined],
    [{ state: 'approved' }, undefined],
    ['<html>', undefined],
    [null, undefined],
  ])('%j → %j', (body, expected) => {
    expect(parseApprovalStatus(body)).toEqual(expected);
  });
});

describe('waitDeadline', () => {
  const started = Date.parse('2026-12-01T10:00:00Z');
  it.each<[string, string, number, number | undefined, string]>([
    ['the expiry plus a minute', '2026-12-01T11:00:00Z', 3600, undefined, '2026-12-01T11:01:00.000Z'],
    ['a sooner timeout', '2026-12-01T11:00:00Z', 3600, 15 * 60_000, '2026-12-01T10:15:00.000Z'],
    ['a timeout past the expiry: the expiry still ends it', '2026-12-01T10:30:00Z', 1800, 2 * 3_600_000, '2026-12-01T10:31:00.000Z'],
    ['an unreadable expiry: expires-in from the start', 'soon', 600, undefined, '2026-12-01T10:11:00.000Z'],
  ])('%s', (_name, expiresAt, expiresIn, timeoutMs, expected) => {
    expect(new Date(waitDeadline(started, expiresAt, expiresIn, timeoutMs)).toISOString()).toBe(expected);
  });
});

describe('defaultIdempotencyKey', () => {
  it.each<[string, { repository?: string; runId?: string; attempt?: string }, string | undefined]>([
    ['outside CI every run asks', {}, undefined],
    ['a GitHub run and attempt', { repository: 'acme/orders', runId: '9001', attempt: '2' }, 'acme/orders:9001:2:approve:production:1.4.2'],
    ['a run without attempts (Jenkins, CodeBuild)', { repository: 'acme/orders', runId: '77' }, 'acme/orders:77:approve:production:1.4.2'],
    ['no repository', { runId: '77', attempt: '' }, 'local:77:approve:production:1.4.2'],
  ])('%s', (_name, run, expected) => {
    expect(defaultIdempotencyKey(run, 'approve', 'production', '1.4.2')).toBe(expected);
  });
});
