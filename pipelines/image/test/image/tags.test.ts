import { describe, expect, it } from '@jest/globals';
import { computeTags, parseFlavor, parseTagRules, sanitizeTag, type TagContext, type TagRules } from '../../src/image/tags.js';

const now = new Date('2026-11-30T08:09:10Z');
const sha = '0123456789abcdef0123456789abcdef01234567';
const image = 'registry.example.com/acme/orders';
const ctx = (c: Partial<TagContext>): TagContext => ({ provider: 'github', now, ...c });
const rules = (text?: string, extra: Partial<TagRules> = {}): TagRules => ({ images: [image], ...(text ? { tags: parseTagRules(text) } : {}), ...extra });

describe('computeTags', () => {
  const cases: Array<[string, Partial<TagContext>, TagRules, string[]]> = [
    ['default rules on the default branch: branch, sha, latest', { branch: 'main', defaultBranch: 'main', sha }, rules(), ['main', 'sha-0123456', 'latest']],
    ['default rules on a feature branch: no latest, slashes made safe', { branch: 'feature/Login_v2', defaultBranch: 'main', sha }, rules(), ['feature-Login_v2', 'sha-0123456']],
    ['a pull request: pr-N and sha, never the branch nor latest', { branch: 'fix', defaultBranch: 'fix', pullRequest: 42, sha, event: 'pull_request' }, rules(), ['pr-42', 'sha-0123456']],
    ['a release tag: 1.2.3, 1.2, 1, sha, latest', { tag: 'v1.2.3', sha }, rules(), ['1.2.3', '1.2', '1', 'sha-0123456', 'latest']],
    ['a pre-release: only the full version, no short forms, no latest', { tag: 'v2.0.0-rc.1', sha }, rules(), ['2.0.0-rc.1', 'sha-0123456']],
    ['0.x: no bare major (still a release, so latest)', { tag: '0.4.1' }, rules(), ['0.4.1', '0.4', 'latest']],
    ['build metadata becomes a valid tag', { tag: '1.0.0+build.7' }, rules('type=semver,pattern={{version}}'), ['1.0.0-build.7', 'latest']],
    ['a non-semver tag yields nothing from semver rules', { tag: 'release-candidate' }, rules('type=semver,pattern={{version}}\ntype=ref,event=tag'), ['release-candidate']],
    ['custom semver pattern with the raw tag', { tag: 'v3.1.4' }, rules('type=semver,pattern=v{{major}}.{{minor}}\ntype=semver,pattern={{raw}}'), ['v3.1', 'v3.1.4', 'latest']],
    ['semver from a value instead of the git tag', { branch: 'main' }, rules('type=semver,pattern={{major}}.{{minor}},value=5.6.7', { flavor: { latest: false } }), ['5.6']],
    ['sha long with a custom prefix', { sha }, rules('type=sha,format=long,prefix=git-'), [`git-${sha}`]],
    ['raw with templates and a timestamp', { branch: 'main', sha, runId: '77' }, rules("type=raw,value={{branch}}-{{date 'YYYYMMDD-HHmmss'}}-{{sha}}\ntype=raw,value=run-{{run_id}}", { flavor: { latest: false } }), ['main-20261130-080910-0123456', 'run-77']],
    ['enable only on the default branch', { branch: 'dev', defaultBranch: 'main' }, rules('type=raw,value=stable,enable={{is_default_branch}}\ntype=ref,event=branch'), ['dev']],
    ['enable on the default branch fires there', { branch: 'main', defaultBranch: 'main' }, rules('type=raw,value=stable,enable={{is_default_branch}}'), ['stable', 'latest']],
    ['enable=false switches a rule off', { sha }, rules('type=sha,enable=false\ntype=raw,value=x'), ['x']],
    ['flavor prefix and suffix on every tag but latest', { branch: 'main', defaultBranch: 'main', sha }, rules(undefined, { flavor: parseFlavor('prefix=app-,suffix=-alpine') }), ['app-main-alpine', 'app-sha-0123456-alpine', 'latest']],
    ['a rule prefix overrides the flavor prefix', { branch: 'main' }, rules('type=ref,event=branch,prefix=br-', { flavor: { prefix: 'x-', latest: false } }), ['br-main']],
    ['latest=true forces it; latest=false removes it', { branch: 'dev' }, rules('type=ref,event=branch', { flavor: { latest: true } }), ['dev', 'latest']],
    ['schedule only on scheduled runs', { event: 'schedule', branch: 'main' }, rules("type=schedule,pattern=nightly-{{date 'YYYYMMDD'}}", { flavor: { latest: false } }), ['nightly-20261130']],
    ['schedule rule silent on a push', { event: 'push', branch: 'main' }, rules('type=schedule', { flavor: { latest: false } }), []],
    ['duplicates collapse', { branch: 'main', defaultBranch: 'main' }, rules('type=raw,value=latest\ntype=raw,value=main\ntype=ref,event=branch'), ['latest', 'main']],
    ['no context at all: no tags', {}, rules(), []],
  ];
  it.each(cases)('%s', (_name, context, tagRules, expected) => {
    const result = computeTags(ctx(context), tagRules);
    expect(result.tagNames).toEqual(expected);
    expect(result.tags).toEqual(expected.map((t) => `${image}:${t}`));
  });

  it('every image gets every tag', () => {
    const result = computeTags(ctx({ tag: '1.0.0' }), { images: ['a.example/x', 'b.example/y'], tags: parseTagRules('type=semver,pattern={{version}}'), flavor: { latest: false } });
    expect(result.tags).toEqual(['a.example/x:1.0.0', 'b.example/y:1.0.0']);
  });

  it('OCI labels from the context, overridable', () => {
    const result = computeTags(ctx({ tag: 'v1.2.3', sha, repository: 'acme/orders' }), rules(undefined, { description: 'Orders API', licenses: 'Apache-2.0', labels: { 'org.opencontainers.image.vendor': 'Acme', team: 'payments' } }));
    expect(result.version).toBe('1.2.3');
    expect(result.labels).toEqual({
      'org.opencontainers.image.created': '2026-11-30T08:09:10.000Z',
      'org.opencontainers.image.revision': sha,
      'org.opencontainers.image.version': '1.2.3',
      'org.opencontainers.image.source': 'https://github.com/acme/orders',
      'org.opencontainers.image.url': 'https://github.com/acme/orders',
      'org.opencontainers.image.title': 'orders',
      'org.opencontainers.image.description': 'Orders API',
      'org.opencontainers.image.licenses': 'Apache-2.0',
      'org.opencontainers.image.vendor': 'Acme',
      team: 'payments',
    });
  });

  it('outside GitHub there is no guessed source URL', () => {
    const result = computeTags(ctx({ provider: 'jenkins', branch: 'main', repository: 'acme/orders' }), rules());
    expect(result.labels['org.opencontainers.image.source']).toBeUndefined();
  });

  it('rejects an image with a tag', () => {
    expect(() => computeTags(ctx({ branch: 'x' }), { images: ['acme/orders:1'] })).toThrow(expect.objectContaining({ code: 'image.bad-image' }));
  });

  it('rejects an unknown template expression, naming the known ones', () => {
    expect(() => computeTags(ctx({}), rules('type=raw,value={{nope}}'))).toThrow(expect.objectContaining({ code: 'image.bad-template', hint: expect.stringContaining('{{branch}}') }));
  });
});

describe('parseTagRules / parseFlavor', () => {
  it('reads metadata-action lines, comments and commas inside templates', () => {
    expect(parseTagRules("# ours\ntype=semver,pattern={{major}}.{{minor}}\n\ntype=raw,value={{date 'YYYY,MM'}},enable=true\ntype=ref,event=pr,prefix=mr-")).toEqual([
      { type: 'semver', pattern: '{{major}}.{{minor}}' },
      { type: 'raw', value: "{{date 'YYYY,MM'}}", enable: true },
      { type: 'ref', event: 'pr', prefix: 'mr-' },
    ]);
  });

  const bad: Array<[string, string, string]> = [
    ['type=nope', 'image.bad-tag-rule', 'type must be one of semver, ref, sha, raw, schedule'],
    ['type=ref,event=push', 'image.bad-tag-rule', 'event must be branch, tag or pr'],
    ['type=semver', 'image.bad-tag-rule', 'needs pattern='],
    ['type=sha,pattern=x', 'image.bad-tag-rule', 'unknown key "pattern" for type=sha'],
    ['type=raw,oops', 'image.bad-tag-rule', '"oops" is not key=value'],
  ];
  it.each(bad)('rejects %s', (text, code, message) => {
    expect(() => parseTagRules(text)).toThrow(expect.objectContaining({ code, message: expect.stringContaining(message) }));
  });

  it('flavor', () => {
    expect(parseFlavor('latest=false\nprefix=a-,suffix=-b')).toEqual({ latest: false, prefix: 'a-', suffix: '-b' });
    expect(() => parseFlavor('latest=sometimes')).toThrow(expect.objectContaining({ code: 'image.bad-flavor' }));
    expect(() => parseFlavor('colour=blue')).toThrow(expect.objectContaining({ code: 'image.bad-flavor' }));
  });

  it('sanitizeTag', () => {
    expect(sanitizeTag('feature/ABC#1')).toBe('feature-ABC-1');
    expect(sanitizeTag('-.x')).toBe('x');
    expect(sanitizeTag('a'.repeat(200))).toHaveLength(128);
  });
});
