// scripts/release.mjs refuses tarballs that are not fit to publish: these are its checks, as tables.
// (The install test packs and installs the real tarballs; this is what stops a bad one earlier.)
import { describe, expect, it } from '@jest/globals';

type Manifest = { name: string; main?: string; types?: string; bin?: Record<string, string>; exports?: unknown; dependencies?: Record<string, string>; peerDependencies?: Record<string, string> };
// a plain-JS script without declarations: imported through a variable so tsc does not look for them
const releaseScript = '../../scripts/release.mjs';
const { importedPackages, tarballProblems, publishedPackages } = (await import(releaseScript)) as {
  importedPackages(code: string): Set<string>;
  tarballProblems(files: string[], manifest: Manifest, versions: Map<string, string>): string[];
  publishedPackages(): { dir: string; manifest: Manifest }[];
};

describe('importedPackages', () => {
  it.each([
    ["import { z } from 'zod';", ['zod']],
    ['import{a as b}from"yaml";', ['yaml']],
    ["const sdk = await import('@aws-sdk/client-ecr');", ['@aws-sdk/client-ecr']],
    ["const pg = require('pg');", ['pg']],
    ["export { x } from '@shipgate/protocol';", ['@shipgate/protocol']],
    ["import 'dotenv/config';", ['dotenv']],
    ["import fs from 'node:fs'; import path from 'path'; import x from './x.js';", []],
    ["// callers `await import('@aws-sdk/client-…')`", []],
    ["hint: 'check it' from 'a string', '(' + x", []],
  ])('%s → %j', (code, names) => {
    expect([...importedPackages(code)].sort()).toEqual(names);
  });
});

describe('tarballProblems', () => {
  const versions = new Map([
    ['@shipgate/protocol', '1.2.0'],
    ['@shipgate/core', '1.2.0'],
  ]);
  const manifest: Manifest = {
    name: '@shipgate/core',
    main: 'dist/index.js',
    types: 'dist/index.d.ts',
    exports: { '.': { types: './dist/index.d.ts', default: './dist/index.js' }, './package.json': './package.json' },
    dependencies: { '@shipgate/protocol': '1.2.0', zod: '^4.0.0' },
  };
  const good = ['LICENSE', 'README.md', 'package.json', 'dist/index.js', 'dist/index.d.ts'];

  it('passes a complete tarball', () => {
    expect(tarballProblems(good, manifest, versions)).toEqual([]);
  });

  it.each([
    ['a missing LICENSE', good.filter((f) => f !== 'LICENSE'), manifest, 'no LICENSE'],
    ['a source map', [...good, 'dist/index.js.map'], manifest, 'ships dist/index.js.map'],
    ['build info', [...good, 'dist/.tsbuildinfo'], manifest, 'ships dist/.tsbuildinfo'],
    ['a sibling at another version', good, { ...manifest, dependencies: { '@shipgate/protocol': '1.1.0' } }, '@shipgate/protocol@1.1.0, but 1.2.0 is released'],
    ['a workspace link', good, { ...manifest, dependencies: { '@shipgate/protocol': 'workspace:*' } }, '@shipgate/protocol@workspace:* is a local link'],
    ['a bin that is not packed', good, { ...manifest, bin: { shipgate: 'bin/shipgate.js' } }, 'package.json points at bin/shipgate.js, which is not in the tarball'],
    ['an export that is not packed', good.filter((f) => f !== 'dist/index.d.ts'), manifest, 'package.json points at dist/index.d.ts, which is not in the tarball'],
  ])('refuses %s', (_what, files, m, problem) => {
    expect(tarballProblems(files, m, versions)).toContain(problem);
  });
});

describe('publishedPackages', () => {
  it('are the eleven @shipgate packages, not the private actions or examples', () => {
    expect(publishedPackages().map((p) => p.manifest.name)).toEqual([
      '@shipgate/protocol',
      '@shipgate/core',
      '@shipgate/aws',
      '@shipgate/image',
      '@shipgate/quality-gate',
      '@shipgate/slack',
      '@shipgate/verify',
      '@shipgate/cli',
      '@shipgate/danger',
      '@shipgate/test-harness',
      '@shipgate/bolt-app',
    ]);
  });
});
