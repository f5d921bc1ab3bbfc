import { describe, expect, it } from '@jest/globals';
import { nextMove, parseApprovalStatus, type ApprovalStatus } from '../../src/approval/decision.js';

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
