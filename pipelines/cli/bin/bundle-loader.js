// Runs the bundled CLI (dist/bundle/shipgate.cjs, see scripts/bundle.mjs) with V8's code cache of
// an earlier run. Node's own compile cache is made when a module is compiled, before it runs, so it
// holds only the top level: every function a start calls (the YAML parser, zod, the config checks)
// was compiled again in every process. A script's cache made after it ran holds them too, which
// takes some 15 ms off every `shipgate validate`.
//
// The cache is a file per bundle build, Node version and set of Node flags, in a directory only
// this user may write (SHIPGATE_CACHE_DIR, else $XDG_CACHE_HOME/shipgate or ~/.cache/shipgate,
// %LOCALAPPDATA%\shipgate on Windows, else <tmp>/shipgate-<uid>): V8 checks a cache against the
// length of the source only, so a cache made for other code, or put there by someone else, must
// never be found. Caches of other builds older than 30 days are removed when a new one is written.
// It is written when a command ends, by the first process that had none (or whose cache V8 refused)
// and by the first run of each other command word, so that it holds what every command a user runs
// calls. NODE_DISABLE_COMPILE_CACHE=1 or SHIPGATE_CODE_CACHE=0 turns it off; anything that goes
// wrong with it only costs the speed.
import { closeSync, existsSync, fstatSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import vm from 'node:vm';

/**
 * `dir` and its missing parents, made with mode 0700. Not mkdirSync's `recursive`, which never
 * returns for a path under /proc or /sys (a HOME there hung every start); bounded by the depth.
 * The synchronous twin of makeDirectory in @shipgate/protocol (src/fs.ts): the bin runs before the
 * bundle and loads no package, so a change to one belongs in both.
 */
function makeDirectory(dir) {
  const missing = [];
  for (let current = path.resolve(dir); !existsSync(current) && missing.length < 4096; current = path.dirname(current)) {
    missing.push(current);
    if (path.dirname(current) === current) break;
  }
  for (const each of missing.reverse()) {
    try {
      mkdirSync(each, { mode: 0o700 });
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
    }
  }
}

/** A directory only this user may write, created if need be; undefined if `dir` is not one. */
function privateDirectory(dir) {
  try {
    makeDirectory(dir);
    const stats = lstatSync(dir);
    // a link (say, planted under the temp dir), someone else's directory, or one others may write
    // to: its files could be anyone's code
    if (!stats.isDirectory()) return undefined;
    if (process.platform !== 'win32' && (stats.uid !== process.getuid?.() || (stats.mode & 0o022) !== 0)) return undefined;
    return dir;
  } catch {
    return undefined;
  }
}

/** The directory for code caches, or undefined when there is none this user alone may write. */
export function cacheDirectory(env = process.env) {
  if (env.NODE_DISABLE_COMPILE_CACHE || env.SHIPGATE_CODE_CACHE === '0') return undefined;
  if (env.SHIPGATE_CACHE_DIR) return privateDirectory(env.SHIPGATE_CACHE_DIR);
  const home = os.homedir();
  const user = process.platform === 'win32' ? env.LOCALAPPDATA : env.XDG_CACHE_HOME || (home ? path.join(home, '.cache') : undefined);
  // a read-only or missing home (some CI containers): a directory of this user's own under the temp dir
  return (user && privateDirectory(path.join(user, 'shipgate'))) || privateDirectory(path.join(os.tmpdir(), `shipgate-${process.getuid?.() ?? 'user'}`));
}

/** The cache file for the bundle `file` (keyed on its build id, written next to it by the bundle script). */
function cacheFileFor(file, dir) {
  const id = readFileSync(path.join(path.dirname(file), 'build-id'), 'utf8').trim();
  if (!/^[0-9a-f]{16}$/.test(id)) return undefined;
  return path.join(dir, `cli-${id}-${process.version}-${process.arch}-${flagsKey()}.v8cache`);
}

/**
 * Node's and V8's flags of this process (V8 refuses a cache made under other flags): a key of its
 * own per set, so that starts with and without, say, NODE_OPTIONS=--experimental-vm-modules do not
 * replace each other's cache at every turn. FNV-1a, 32 bits: a name, not a secret.
 */
function flagsKey() {
  let hash = 0x811c9dc5;
  for (const char of `${process.execArgv.join(' ')}\0${process.env.NODE_OPTIONS ?? ''}`) hash = Math.imul(hash ^ char.charCodeAt(0), 0x01000193) >>> 0;
  return hash.toString(16).padStart(8, '0');
}

/** The cache's bytes, if the file is this user's own and not writable by others. */
function readCache(cacheFile) {
  let fd;
  try {
    fd = openSync(cacheFile, 'r');
    const stats = fstatSync(fd);
    if (process.platform !== 'win32' && (stats.uid !== process.getuid?.() || (stats.mode & 0o022) !== 0)) return undefined;
    return readFileSync(fd);
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

const staleMs = 30 * 24 * 3600 * 1000;

/** Writes the cache whole or not at all; says whether it did. */
function writeCache(cacheFile, data) {
  const tmp = `${cacheFile}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, data, { mode: 0o600 });
    renameSync(tmp, cacheFile); // whole or not at all, even with several processes at it
  } catch {
    rmSync(tmp, { force: true }); // a full disk or a read-only home: no cache, the next start compiles again
    return false;
  }
  // caches of other builds (upgrades, other projects) go once unused for a month; bounded: one directory listing
  try {
    const dir = path.dirname(cacheFile);
    for (const name of readdirSync(dir)) {
      const file = path.join(dir, name);
      if (/^cli-.*\.v8cache(\.\d+\.tmp|\.commands)?$/.test(name) && file !== cacheFile && Date.now() - statSync(file).mtimeMs > staleMs) rmSync(file, { force: true });
    }
  } catch {
    // another process pruned it first
  }
  return true;
}

/** The command word of a command line (as cli/commands/index.ts reads it), or '' for none. */
function commandWord(argv) {
  for (let i = 0; i < argv.length; i += 1) {
    if (['-C', '--directory', '-f', '--file'].includes(argv[i])) i += 1;
    else if (!argv[i].startsWith('-')) return argv[i];
  }
  return '';
}

/** Runs `shipgate <argv>` from the bundle `file`; resolves when the command has ended. */
export async function runBundle(file, argv) {
  const source = readFileSync(file, 'utf8');
  const dir = cacheDirectory();
  let cacheFile;
  try {
    cacheFile = dir && cacheFileFor(file, dir);
  } catch {
    cacheFile = undefined; // no build id: a bundle from elsewhere, run without a cache
  }
  const cachedData = cacheFile ? readCache(cacheFile) : undefined;
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename: file, ...(cachedData ? { cachedData } : {}) });
  if (cacheFile) {
    // The cache holds what the commands that made it ran: it is made again (with all it had, and what
    // this command compiled) by the first run of each other command, when that command has ended.
    const word = commandWord(argv).slice(0, 64);
    const covered = cachedData && !script.cachedDataRejected ? readCoveredWords(cacheFile) : [];
    if (!covered.includes(word)) {
      process.once('exit', () => {
        if (writeCache(cacheFile, script.createCachedData())) writeCoveredWords(cacheFile, [...covered, word]);
      });
    }
  }
  // plugins are imported by name at run time; a script's own import() has no module loader to call
  globalThis[Symbol.for('shipgate.import')] = (specifier) => import(specifier);
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(file), module, file, path.dirname(file));
  await module.exports.main(argv);
}

/** The command words whose runs made the cache (a line each, beside it). */
function readCoveredWords(cacheFile) {
  try {
    return readFileSync(`${cacheFile}.commands`, 'utf8').split('\n').slice(0, 100);
  } catch {
    return [];
  }
}

function writeCoveredWords(cacheFile, words) {
  try {
    writeFileSync(`${cacheFile}.commands`, words.join('\n'), { mode: 0o600 });
  } catch {
    // the next run of this command makes the cache again
  }
}
