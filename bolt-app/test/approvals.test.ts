// The pure core, as tables: the approval state machine, who may act, rollback target selection,
// the config file's validation (file:line:col), the API token check and message escaping.
import { describe, expect, it } from '@jest/globals';
import { mayAct, parseRequester, requesterMatch, type EnvironmentPolicy } from '../src/approvals/access.js';
import { nextState, verdictOf, type ApprovalEvent } from '../src/approvals/machine.js';
import type { ApprovalState, Deployment } from '../src/approvals/model.js';
import { planRollback, selectRollbackTarget, currentDeployment } from '../src/approvals/rollback.js';
import { environmentNames, environmentPolicy, parseConfig } from '../src/config.js';
import { tokenMatches } from '../src/http/api.js';
import { approvalMessage, escapeText, parseRollbackValue, rollbackValue } from '../src/slack/messages.js';
import { maskSecrets } from '../src/log.js';

const t0 = new Date('2026-01-01T10:00:00Z');
const later = new Date('2026-01-01T11:00:00Z');
const at = (state: ApprovalState) => ({ state, expiresAt: later });

describe('nextState', () => {
  const approve: ApprovalEvent = { type: 'approve', by: 'U1' };
  const reject: ApprovalEvent = { type: 'reject', by: 'U1', reason: ' broken ' };
  const expire: ApprovalEvent = { type: 'expire' };
  it.each([
    ['pending', approve, t0, { ok: true, state: 'approved', decidedBy: 'U1', reason: null }],
    ['pending', reject, t0, { ok: true, state: 'rejected', decidedBy: 'U1', reason: 'broken' }],
    ['pending', { type: 'reject', by: 'U1', reason: '  ' }, t0, { ok: false, refusal: 'reason-required' }],
    ['pending', approve, later, { ok: false, refusal: 'expired' }],
    ['pending', expire, t0, { ok: false, refusal: 'already-decided' }],
    ['pending', expire, later, { ok: true, state: 'expired', decidedBy: null, reason: null }],
    ['approved', approve, t0, { ok: false, refusal: 'already-decided' }],
    ['approved', reject, t0, { ok: false, refusal: 'already-decided' }],
    ['rejected', approve, t0, { ok: false, refusal: 'already-decided' }],
    ['expired', approve, t0, { ok: false, refusal: 'expired' }],
    ['expired', expire, later, { ok: false, refusal: 'expired' }],
  ] as Array<[ApprovalState, ApprovalEvent, Date, unknown]>)('%s + %j at %s → %j', (state, event, now, expected) => {
    expect(nextState(at(state), event, now)).toEqual(expected);
  });

  it.each([
    ['approved', 'approved'],
    ['rejected', 'rejected'],
    ['expired', 'rejected'],
  ] as const)('a backend hears %s as %s', (state, verdict) => {
    expect(verdictOf(state)).toBe(verdict);
  });
});

describe('parseRequester', () => {
  it.each([
    ['U0ADA00001', { id: 'U0ADA00001' }],
    ['u0request1', { id: 'U0REQUEST1' }],
    ['@U0REQUEST1', { id: 'U0REQUEST1' }],
    [' <@w0ada00001|ada> ', { id: 'W0ADA00001' }],
    ['Ada@Example.COM', { email: 'ada@example.com' }],
    ['@octocat', { name: 'octocat' }],
    ['ursula', { name: 'ursula' }],
    ['   ', undefined],
  ])('%j → %j', (raw, expected) => {
    expect(parseRequester(raw)).toEqual(expected);
  });
});

describe('mayAct', () => {
  const prod: EnvironmentPolicy = { channel: 'C1', approvers: ['U0ADA', 'S0OPS'], selfApprove: false };
  const none = new Set<string>();
  it.each([
    ['a listed user', { userId: 'U0ADA', groups: none }, 'approve', null, { allowed: true }],
    ['a member of a listed group', { userId: 'U0GUS', groups: new Set(['S0OPS']) }, 'approve', null, { allowed: true }],
    ['anyone else', { userId: 'U0EVE', groups: none }, 'approve', null, { allowed: false, why: 'not-an-approver' }],
    ['anyone else, rolling back', { userId: 'U0EVE', groups: none }, 'rollback', null, { allowed: false, why: 'not-an-approver' }],
    ['the requester approving', { userId: 'U0ADA', groups: none }, 'approve', 'U0ADA', { allowed: false, why: 'self-approval' }],
    ['the requester as a mention', { userId: 'U0ADA', groups: none }, 'approve', '<@U0ADA|ada>', { allowed: false, why: 'self-approval' }],
    ['the requester by e-mail', { userId: 'U0ADA', groups: none, email: 'Ada@Example.com' }, 'approve', 'ada@example.com', { allowed: false, why: 'self-approval' }],
    ['the requester rejecting', { userId: 'U0ADA', groups: none }, 'reject', 'U0ADA', { allowed: true }],
    ['someone else than the requester', { userId: 'U0ADA', groups: none }, 'approve', 'U0BOB', { allowed: true }],
    ['the requester in lower case', { userId: 'U0ADA', groups: none }, 'approve', 'u0ada', { allowed: false, why: 'self-approval' }],
    ['the requester with an @', { userId: 'U0ADA', groups: none }, 'approve', '@U0ADA', { allowed: false, why: 'self-approval' }],
    ['an e-mail, the approver’s own address unknown', { userId: 'U0ADA', groups: none }, 'approve', 'bob@example.com', { allowed: false, why: 'requester-unresolved' }],
    ['an e-mail, the approver’s own address another', { userId: 'U0ADA', groups: none, email: 'ada@example.com' }, 'approve', 'bob@example.com', { allowed: true }],
    ['an e-mail Slack resolved to the approver', { userId: 'U0ADA', groups: none }, 'approve', { id: 'U0ADA', email: 'a@x.io' }, { allowed: false, why: 'self-approval' }],
    ['a CI login, the approver’s profile unknown', { userId: 'U0ADA', groups: none }, 'approve', 'ada-ci', { allowed: false, why: 'requester-unresolved' }],
    ['a CI login that is one of the approver’s names', { userId: 'U0ADA', groups: none, names: ['ada-ci', 'ada'] }, 'approve', '@Ada-CI', { allowed: false, why: 'self-approval' }],
    ['a CI login that is none of them', { userId: 'U0ADA', groups: none, names: ['ada'] }, 'approve', 'bob-ci', { allowed: true }],
    ['an unresolved requester rejecting', { userId: 'U0ADA', groups: none }, 'reject', 'bob@example.com', { allowed: true }],
  ] as const)('%s', (_name, actor, action, requester, expected) => {
    expect(mayAct(prod, actor, action, requester)).toEqual(expected);
  });

  it('self-approve: true lets the requester approve; an unknown environment lets nobody', () => {
    expect(mayAct({ ...prod, selfApprove: true }, { userId: 'U0ADA', groups: none }, 'approve', 'U0ADA')).toEqual({ allowed: true });
    expect(mayAct(undefined, { userId: 'U0ADA', groups: none }, 'approve')).toEqual({ allowed: false, why: 'unknown-environment' });
    expect(requesterMatch({ userId: 'U0ADA', groups: none }, undefined)).toBe('other');
  });
});

describe('rollback target selection', () => {
  let seq = 0;
  const dep = (version: string, minute: number, over: Partial<Deployment> = {}): Deployment =>
    ({ id: `dep_${version}_${minute}`, seq: ++seq, service: 's', environment: 'prod', version, digest: `sha256:${version}`, outcome: 'succeeded', createdAt: new Date(t0.getTime() + minute * 60_000), rollbackState: null, rollback: { kind: 'jenkins', jobUrl: 'https://ci/job/r/' }, rollbackOf: null, ...over }) as Deployment;

  it.each([
    ['the previous good release', [dep('v1', 1), dep('v2', 2), dep('v3', 3)], 'dep_v3_3', 'dep_v2_2'],
    ['skips failed deploys', [dep('v1', 1), dep('v2', 2, { outcome: 'failed' }), dep('v3', 3)], 'dep_v3_3', 'dep_v1_1'],
    ['skips a redeploy of the same release', [dep('v1', 1), dep('v2', 2), dep('v2', 3)], 'dep_v2_3', 'dep_v1_1'],
    ['skips a release someone rolled back from', [dep('v1', 1), dep('v2', 2, { rollbackState: 'succeeded' }), dep('v1', 3, { rollbackOf: 'dep_v2_2' }), dep('v2', 4), dep('v3', 5)], 'dep_v3_5', 'dep_v1_3'],
    ['nothing before the first deploy', [dep('v1', 1)], 'dep_v1_1', undefined],
  ])('%s', (_name, history, fromId, expected) => {
    const from = history.find((d) => d.id === fromId)!;
    expect(selectRollbackTarget(history, from)?.id).toBe(expected);
  });

  it('ties in time are broken by insertion order', () => {
    const a = dep('v1', 1);
    const b = dep('v2', 1);
    expect(currentDeployment([b, a])?.id).toBe(b.id);
    expect(selectRollbackTarget([b, a], b)?.id).toBe(a.id);
  });

  it.each([
    ['the current deployment', [dep('v1', 1), dep('v2', 2)], 'dep_v2_2', { ok: true }],
    ['an older one', [dep('v1', 1), dep('v2', 2), dep('v3', 3)], 'dep_v2_2', { ok: false, refusal: 'not-current' }],
    ['one already rolled back', [dep('v1', 1), dep('v2', 2, { rollbackState: 'requested' })], 'dep_v2_2', { ok: false, refusal: 'already-rolled-back' }],
    ['one without a rollback spec', [dep('v1', 1), dep('v2', 2, { rollback: null })], 'dep_v2_2', { ok: false, refusal: 'no-rollback-spec' }],
    ['a failed deploy', [dep('v1', 1), dep('v2', 2, { outcome: 'failed' })], 'dep_v2_2', { ok: false, refusal: 'not-deployed' }],
    ['the first deploy', [dep('v1', 1)], 'dep_v1_1', { ok: false, refusal: 'no-target' }],
    ['an unknown one', [dep('v1', 1)], 'dep_nope', { ok: false, refusal: 'not-deployed' }],
  ])('plan: %s', (_name, history, fromId, expected) => {
    expect(planRollback(history, fromId)).toMatchObject(expected);
  });

  it('the button value round-trips and rejects anything else', () => {
    const [a, b] = [dep('v1', 1), dep('v2', 2)];
    expect(parseRollbackValue(rollbackValue(b, a))).toEqual({ fromId: b.id, toId: a.id });
    expect(parseRollbackValue('dep_x')).toBeUndefined();
    expect(parseRollbackValue('apr_1>dep_2')).toBeUndefined();
  });
});

describe('config file', () => {
  it('reads environments with their defaults: self-approve is false unless the file says true', () => {
    expect(parseConfig('environments:\n  prod:\n    channel: C0123456789\n    approvers: [U0AAAAAAA, S0BBBBBBB]\n    self-approve: false\n  dev:\n    channel: C0999999999\n    approvers: [U0AAAAAAA]\n')).toEqual({
      environments: { prod: { channel: 'C0123456789', approvers: ['U0AAAAAAA', 'S0BBBBBBB'], selfApprove: false }, dev: { channel: 'C0999999999', approvers: ['U0AAAAAAA'], selfApprove: false } },
    });
  });

  it('knows only the environments the file names, whatever Object.prototype has', () => {
    const config = parseConfig('environments:\n  prod:\n    channel: C0123456789\n    approvers: [U0AAAAAAA]\n');
    for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) expect(environmentPolicy(config, name)).toBeUndefined();
    expect(environmentPolicy(config, 'prod')?.channel).toBe('C0123456789');
    // an environment may even be called that, and is then its own entry
    const odd = parseConfig('environments:\n  constructor:\n    channel: C0123456789\n    approvers: [U0AAAAAAA]\n');
    expect(environmentPolicy(odd, 'constructor')?.approvers).toEqual(['U0AAAAAAA']);
    expect(environmentNames(odd)).toEqual(['constructor']);
  });

  it.each([
    ['a channel name instead of an ID', 'environments:\n  prod:\n    channel: "#deploys"\n    approvers: [U0AAAAAAA]\n', 'environments.prod.channel: a Slack channel ID like C0123456789', 3, 14],
    ['an approver name', 'environments:\n  prod:\n    channel: C0123456789\n    approvers: [U0AAAAAAA, "@ada"]\n', 'environments.prod.approvers.1: a Slack user ID', 4, 28],
    ['no approvers', 'environments:\n  prod:\n    channel: C0123456789\n    approvers: []\n', 'environments.prod.approvers: at least one approver', 4, 16],
    ['a misspelt key', 'environments:\n  prod:\n    channel: C0123456789\n    approvers: [U0AAAAAAA]\n    selfApprove: false\n', 'environments.prod: Unrecognized key: "selfApprove"', 5, 5],
  ])('%s is an error at its line and column', (_name, text, message, line, column) => {
    let error: any;
    try {
      parseConfig(text, 'bolt.yml');
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: 'bolt.config', location: { file: 'bolt.yml', line, column } });
    expect(error.message).toContain(message);
  });

  it('broken YAML is an error with its position', () => {
    expect(() => parseConfig('environments:\n  prod: [\n', 'bolt.yml')).toThrow(expect.objectContaining({ code: 'bolt.config-yaml' }));
  });
});

describe('small rules', () => {
  it.each([
    ['same', 'same', true],
    ['same', 'Same', false],
    ['short', 'a much longer token', false],
    [undefined, 'x', false],
    ['x', undefined, false],
  ])('token %s against %s: %s', (given, expected, ok) => {
    expect(tokenMatches(given, expected)).toBe(ok);
  });

  it('escapes mrkdwn control characters in user text', () => {
    expect(escapeText('<!channel> & <@U1>')).toBe('&lt;!channel&gt; &amp; &lt;@U1&gt;');
    const message = approvalMessage({ id: 'apr_1', service: 'x', environment: 'prod', version: '<!here>', digest: null, summary: '<!channel> ship it', requester: 'U0BOB', idempotencyKey: null, backend: { kind: 'shipgate' }, state: 'pending', createdAt: t0, expiresAt: later, decidedBy: null, decidedAt: null, reason: null, channel: 'C1', messageTs: null }, ['U0ADA']);
    expect(JSON.stringify(message.blocks)).not.toContain('<!channel>');
    expect(JSON.stringify(message.blocks)).not.toContain('<!here>');
  });

  it('masks tokens in free text', () => {
    expect(maskSecrets('failed with xoxb-123-abc and s3cr3tvalue', ['s3cr3tvalue'])).toBe('failed with xox?-[redacted] and [redacted]');
  });
});
