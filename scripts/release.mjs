#!/usr/bin/env node
// Packs every published shipgate package into an npm tarball and writes their checksums: what the
// release workflow attaches to a GitHub release, and what the install test installs.
//
//   node scripts/release.mjs [--out DIR] [--build]
//
//   --out DIR   where the tarballs and SHA256SUMS go (default release/; emptied first)
//   --build     run `npm run build` first (else the packages' dist/ must be built already)
//
// Each tarball is checked before it is kept: it holds a LICENSE, README.md and package.json, no
// source map, build info or test file, every file its package.json points at (main, types, bin,
// exports), its code imports only packages its package.json declares (no dev-only import), and it
// depends on the other shipgate packages by the exact version being released (no workspace or file:
// links). SHA256SUMS is in `sha256sum` format: `sha256sum -c SHA256SUMS` checks it.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** The workspaces that are published: every non-private @shipgate package, in workspace order. */
export function publishedPackages() {
  const { workspaces } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
  return workspaces
    .flatMap((pattern) => (pattern.endsWith('/*') ? readdirSync(path.join(root, pattern.slice(0, -2))).map((d) => `${pattern.slice(0, -2)}/${d}`) : [pattern]))
    .map((dir) => ({ dir, manifest: readJson(path.join(root, dir, 'package.json')) }))
    .filter(({ manifest }) => manifest && !manifest.private && manifest.name?.startsWith('@shipgate/'));
}

function readJson(file) {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

/** The files a package.json points at (main, types, bin, every exports target). */
function pointedAt(manifest) {
  const targets = [];
  const walk = (value) => {
    if (typeof value === 'string') targets.push(value);
    else if (value && typeof value === 'object') Object.values(value).forEach(walk);
  };
  walk(manifest.exports);
  walk(manifest.bin);
  if (manifest.main) targets.push(manifest.main);
  if (manifest.types) targets.push(manifest.types);
  return [...new Set(targets.map((t) => path.posix.normalize(t)))];
}

// `from 'x'`, `import('x')`, `require('x')`, `export … from 'x'` with a literal specifier
const importPattern = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|\bimport\s+)(['"])([^'"\n]+)\1/g;
const packageSpecifier = /^(@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*(\/[\w.@-]+)*$/;
const builtins = new Set(builtinModules);

/** The packages the shipped code imports (by name), for the check that each is a declared dependency. */
export function importedPackages(code) {
  const names = new Set();
  for (const [, , specifier] of code.matchAll(importPattern)) {
    if (!packageSpecifier.test(specifier)) continue; // relative, node:, or a string that only looks like an import
    const name = specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/');
    if (!builtins.has(name)) names.add(name);
  }
  return names;
}

/** Imports of the shipped code that package.json does not declare (a dev-only import, say). */
function undeclaredImports(dir, files, manifest) {
  const declared = new Set([manifest.name, ...Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies, ...manifest.optionalDependencies })]);
  const problems = [];
  // The CLI's esbuild bundle holds its dependencies; the only bare imports left in it are the
  // optional ones the AWS SDK tries inside try/catch (@aws-sdk/signature-v4-crt), so it is not read.
  for (const file of files.filter((f) => /\.(c|m)?js$/.test(f) && !f.startsWith('dist/bundle/'))) {
    for (const name of importedPackages(readFileSync(path.join(root, dir, file), 'utf8'))) if (!declared.has(name)) problems.push(`${file} imports ${name}, which package.json does not declare`);
  }
  return problems;
}

/** What is wrong with one packed tarball (empty when nothing is). */
export function tarballProblems(files, manifest, versions) {
  const problems = [];
  for (const needed of ['LICENSE', 'README.md', 'package.json']) if (!files.includes(needed)) problems.push(`no ${needed}`);
  for (const file of files) if (/\.map$|tsbuildinfo$|\.test\.[cm]?[jt]s$|^src\//.test(file)) problems.push(`ships ${file}`);
  for (const target of pointedAt(manifest)) if (!files.includes(target)) problems.push(`package.json points at ${target}, which is not in the tarball`);
  for (const [name, range] of Object.entries({ ...manifest.dependencies, ...manifest.peerDependencies })) {
    if (/^(workspace|file|link):/.test(range)) problems.push(`${name}@${range} is a local link`);
    if (versions.has(name) && range !== versions.get(name)) problems.push(`${name}@${range}, but ${versions.get(name)} is released`);
  }
  return problems;
}

function pack(dir, out) {
  const json = execFileSync(npm, ['pack', '--json', '--pack-destination', out], { cwd: path.join(root, dir), encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const [result] = JSON.parse(json);
  return { filename: result.filename, files: result.files.map((f) => f.path) };
}

export function release({ out, build = false }) {
  if (build) execFileSync(npm, ['run', 'build'], { cwd: root, stdio: 'inherit' });
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const packages = publishedPackages();
  const versions = new Map(packages.map(({ manifest }) => [manifest.name, manifest.version]));
  const sums = [];
  const problems = [];
  for (const { dir, manifest } of packages) {
    const { filename, files } = pack(dir, out);
    problems.push(...[...tarballProblems(files, manifest, versions), ...undeclaredImports(dir, files, manifest)].map((p) => `${manifest.name}: ${p}`));
    sums.push(`${createHash('sha256').update(readFileSync(path.join(out, filename))).digest('hex')}  ${filename}`);
  }
  writeFileSync(path.join(out, 'SHA256SUMS'), `${sums.join('\n')}\n`);
  return { tarballs: sums.map((line) => line.split('  ')[1]), problems };
}

const usage = 'usage: node scripts/release.mjs [--out DIR] [--build]\n  --out DIR  where the tarballs and SHA256SUMS go (default release/; emptied first)\n  --build    run `npm run build` first\n';

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(usage);
    process.exit(0);
  }
  const unknown = args.filter((a, i) => !['--out', '--build'].includes(a) && args[i - 1] !== '--out');
  if (unknown.length > 0 || (args.includes('--out') && !args[args.indexOf('--out') + 1])) {
    process.stderr.write(`release: ${unknown.length > 0 ? `unknown argument ${unknown[0]}` : '--out needs a directory'}\n${usage}`);
    process.exit(2);
  }
  const at = process.argv.indexOf('--out');
  const out = path.resolve(at > 0 ? process.argv[at + 1] : path.join(root, 'release'));
  const { tarballs, problems } = release({ out, build: process.argv.includes('--build') });
  if (problems.length) {
    process.stderr.write(`release: the tarballs are not fit to publish:\n${problems.map((p) => `  ${p}`).join('\n')}\n`);
    process.exit(1);
  }
  process.stdout.write(`release: ${tarballs.length} tarballs and SHA256SUMS in ${path.relative(process.cwd(), out) || '.'}\n${tarballs.map((t) => `  ${t}`).join('\n')}\n`);
}
