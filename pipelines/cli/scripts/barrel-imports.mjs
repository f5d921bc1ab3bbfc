// Imports from a workspace package's index, pointed at the modules that define what they import.
//
// In the bundle, a module runs when the first module that imports it runs, and an import from a
// package's index imports every module the index re-exports: `import { loadPipeline } from
// '@shipgate/core'` ran the scheduler's, the reporters' and the report writers' modules at every
// `shipgate validate` (esbuild's "sideEffects": false does not help once more than one entry point
// reaches the index, evanw/esbuild#1110). This esbuild plugin rewrites such an import, while
// bundling, into imports of the defining modules: it follows the `export { … } from '…'` lines of
// the index and of the sub-indexes it re-exports from. What it cannot follow (a name the index does
// not re-export by name, `import * as`, a default import) stays as it was, which is always correct,
// only larger. It also turns the sources' imports of Node built-ins into require() calls of the
// names they take (rewriteBuiltinImports). Without the two, `shipgate validate` took 113 ms instead
// of 57 (same bundle otherwise, code cache on both).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

const reExportPattern = /^export\s+(type\s+)?\{([^}]*)\}\s*from\s*['"]([^'"]+)['"];?/gm;
const importPattern = /^import\s+(type\s+)?\{([^}]*)\}\s*from\s*['"](@shipgate\/[a-z0-9-]+)['"];?/gm;

/** `a`, `a as b`, `type A` → { name, alias, type } */
function specifiers(list) {
  return list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      const type = /^type\s+/.test(s);
      const [name, alias = name] = s.replace(/^type\s+/, '').split(/\s+as\s+/).map((x) => x.trim());
      return { name, alias, type };
    });
}

/** The TypeScript file a relative `./x.js` names, if there is one. */
function relativeSource(fromFile, spec) {
  const base = path.resolve(path.dirname(fromFile), spec);
  for (const candidate of [base.replace(/\.js$/, '.ts'), `${base}.ts`, path.join(base, 'index.ts')]) if (existsSync(candidate)) return candidate;
  return undefined;
}

/**
 * A resolver of `name` exported by `file` to where it is defined: { file, name } for one of our
 * TypeScript files, { module, name } for a package re-exported as is (zod, …).
 * `packageIndex(specifier)` gives the index file of a workspace package, or undefined.
 */
export function barrelResolver(packageIndex) {
  const cache = new Map();
  const reExports = (file) => {
    if (!cache.has(file)) {
      const map = new Map();
      for (const [, typeOnly, list, source] of readFileSync(file, 'utf8').matchAll(reExportPattern)) {
        if (typeOnly) continue;
        for (const s of specifiers(list)) if (!s.type) map.set(s.alias, { source, name: s.name });
      }
      cache.set(file, map);
    }
    return cache.get(file);
  };
  const locate = (file, name, depth = 0) => {
    const entry = depth < 16 ? reExports(file).get(name) : undefined;
    if (!entry) return { file, name };
    if (entry.source.startsWith('.')) {
      const target = relativeSource(file, entry.source);
      return target ? locate(target, entry.name, depth + 1) : { file, name };
    }
    const index = packageIndex(entry.source);
    return index ? locate(index, entry.name, depth + 1) : { module: entry.source, name: entry.name };
  };
  return locate;
}

/** `source` with its value imports from workspace packages pointed at the defining modules. */
export function rewriteBarrelImports(source, packageIndex, locate = barrelResolver(packageIndex)) {
  return source.replace(importPattern, (statement, typeOnly, list, pkg) => {
    const index = packageIndex(pkg);
    if (typeOnly || !index) return statement;
    const byTarget = new Map();
    for (const s of specifiers(list)) {
      if (s.type) continue;
      const found = locate(index, s.name);
      const from = found.module ?? found.file;
      if (!byTarget.has(from)) byTarget.set(from, []);
      byTarget.get(from).push(found.name === s.alias ? s.alias : `${found.name} as ${s.alias}`);
    }
    // one line per statement kept, so esbuild's locations in messages stay right
    const imports = [...byTarget].map(([from, names]) => `import { ${names.join(', ')} } from ${JSON.stringify(from)};`);
    return imports.join(' ') + '\n'.repeat(statement.split('\n').length - 1);
  });
}

const builtinImportPattern = /^import\s+(?!type\s)([^;'"]*?)\s*from\s*['"](node:[a-z_/]+)['"];?/gm;

/**
 * `source` with its imports of Node built-ins as calls of `requireName` (a createRequire() the
 * bundle's banner defines): `import { readFile } from 'node:fs'` becomes
 * `const { readFile } = require('node:fs')`, which reads only that property. An ES module import
 * would build the built-in's whole namespace (reading getters that load subsystems), and as a
 * module of its own every such import became a small chunk file the loader reads at each start.
 */
export function rewriteBuiltinImports(source, requireName) {
  return source.replace(builtinImportPattern, (statement, clause, builtin) => {
    const call = `${requireName}(${JSON.stringify(builtin)})`;
    const parts = [];
    const braces = /\{([^}]*)\}/.exec(clause);
    const rest = clause.replace(/\{[^}]*\}/, '').replace(/,\s*$/, '').replace(/^\s*,/, '').trim();
    const namespace = /^\*\s+as\s+([A-Za-z_$][\w$]*)$/.exec(rest);
    if (namespace) parts.push(`const ${namespace[1]} = ${call};`);
    else if (rest) {
      if (!/^[A-Za-z_$][\w$]*$/.test(rest)) return statement; // a form not understood here: leave it to esbuild
      parts.push(`const ${rest} = ${call};`);
    }
    if (braces) {
      const names = specifiers(braces[1]).filter((x) => !x.type).map((x) => (x.name === x.alias ? x.name : `${x.name}: ${x.alias}`));
      if (names.length) parts.push(`const { ${names.join(', ')} } = ${call};`);
    }
    return parts.join(' ') + '\n'.repeat(statement.split('\n').length - 1);
  });
}

/** The esbuild plugin, for .ts files under `sourceRoot` (the workspace's packages). */
export function barrelImportsPlugin(sourceRoot, packageIndex, { requireName } = {}) {
  const locate = barrelResolver(packageIndex);
  const filter = new RegExp(`^${sourceRoot.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}[\\\\/][^\\\\/]+[\\\\/]src[\\\\/].*\\.ts$`);
  return {
    name: 'barrel-imports',
    setup(b) {
      b.onLoad({ filter }, (args) => {
        const source = rewriteBarrelImports(readFileSync(args.path, 'utf8'), packageIndex, locate);
        return { contents: requireName ? rewriteBuiltinImports(source, requireName) : source, loader: 'ts', resolveDir: path.dirname(args.path) };
      });
    },
  };
}
