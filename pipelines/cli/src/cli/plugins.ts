// Plugins: packages that add steps (and CLI commands) without the engine knowing them. shipgate's
// own packages that live outside this one (the test harness's db-test step and `shipgate db`) are
// loaded when installed; a team adds its own with SHIPGATE_PLUGINS=pkg-a,./local-plugin.js.
// loadPlugins returns the plugins; nothing here keeps them: the caller builds its step registry
// (defaultRegistry(plugins)) and its command tree from what it got.
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ShipgateError } from '@shipgate/protocol';
import type { ShipgatePlugin } from '@shipgate/protocol';

/** shipgate's own plugins, loaded when their package is installed. */
export const firstPartyPlugins = ['@shipgate/test-harness/plugin'];

/**
 * Plugins compiled into a bundle (the GitHub actions), by the specifier they would be imported as:
 * a bundle has no node_modules to import them from.
 */
export type BundledPlugins = Readonly<Record<string, ShipgatePlugin>>;

/**
 * `import(specifier)`, or the import the bundled CLI's bin provides: the bin compiles the bundle as
 * a script (bin/bundle-loader.js, for its code cache), and a script's own import() has no module
 * loader to call. Plugins and only plugins are imported by name at run time.
 */
async function importModule(specifier: string): Promise<unknown> {
  const provided = (globalThis as Record<symbol, ((specifier: string) => Promise<unknown>) | undefined>)[Symbol.for('shipgate.import')];
  return provided ? provided(specifier) : import(specifier);
}

function notInstalled(error: unknown, specifier: string): boolean {
  const e = error as NodeJS.ErrnoException;
  const pkg = specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/');
  return (e.code === 'ERR_MODULE_NOT_FOUND' || e.code === 'MODULE_NOT_FOUND') && String(e.message).includes(pkg);
}

/** Imports `specifier` (`named` is how the user named it, for messages and the first-party check). */
async function importPlugin(specifier: string, cwd: string, named = specifier): Promise<ShipgatePlugin | undefined> {
  const firstParty = firstPartyPlugins.includes(named);
  const target = specifier.startsWith('.') || path.isAbsolute(specifier) ? pathToFileURL(path.resolve(cwd, specifier)).href : specifier;
  let mod: { default?: unknown; plugin?: unknown };
  try {
    mod = (await importModule(target)) as typeof mod;
  } catch (error) {
    if (firstParty && notInstalled(error, specifier)) return undefined;
    throw new ShipgateError('plugin.load', `cannot load plugin ${named}: ${(error as Error).message}`, { hint: 'check SHIPGATE_PLUGINS and that the package is installed' });
  }
  const plugin = (mod.default ?? mod.plugin) as ShipgatePlugin | undefined;
  if (!plugin || typeof plugin !== 'object' || typeof plugin.name !== 'string') {
    throw new ShipgateError('plugin.load', `${named} is not a shipgate plugin`, { hint: 'export default { name, steps: [...], commands: [...] }' });
  }
  return plugin;
}

/**
 * What a plugin package declares in its package.json under "shipgate" so that it need not be
 * imported to be known: `plugin` (its module, relative to the package; used when the plugin is named
 * by its directory) and the `steps` it defines. Its commands are not declared: the CLI imports
 * deferred plugins whenever a command line names no built-in command.
 */
export interface PluginManifest {
  plugin: string;
  steps: readonly string[];
}

/** A plugin known by its manifest, imported by `load()` (once) when one of its steps or its commands are needed. */
export interface DeferredPlugin {
  specifier: string;
  steps: readonly string[];
  load(): Promise<ShipgatePlugin>;
}

function isStringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

/** The package.json a plugin specifier names: a package (through its exported ./package.json) or a plugin directory. */
function packageJsonOf(specifier: string, cwd: string): string | undefined {
  if (specifier.startsWith('.') || path.isAbsolute(specifier)) {
    const dir = path.resolve(cwd, specifier);
    return statSync(dir, { throwIfNoEntry: false })?.isDirectory() ? path.join(dir, 'package.json') : undefined;
  }
  const pkg = specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/');
  try {
    // import.meta.resolve resolves like the import of the plugin itself would (absent under test runners that transpile to a VM)
    return typeof import.meta.resolve === 'function' ? fileURLToPath(import.meta.resolve(`${pkg}/package.json`)) : undefined;
  } catch {
    return undefined; // not installed, or no exported package.json: the eager path says which
  }
}

/** The plugin's manifest and the module to import, or undefined when it has none (then it is imported at start). */
function manifestOf(specifier: string, cwd: string): { manifest: PluginManifest; target: string } | undefined {
  const file = packageJsonOf(specifier, cwd);
  if (!file) return undefined;
  let json: { shipgate?: Partial<PluginManifest> };
  try {
    json = JSON.parse(readFileSync(file, 'utf8')) as typeof json;
  } catch {
    return undefined;
  }
  const m = json.shipgate;
  if (!m || typeof m.plugin !== 'string' || !isStringList(m.steps)) return undefined;
  const manifest: PluginManifest = { plugin: m.plugin, steps: m.steps };
  const isPath = specifier.startsWith('.') || path.isAbsolute(specifier);
  return { manifest, target: isPath ? path.resolve(path.dirname(file), manifest.plugin) : specifier };
}

/**
 * Like loadPlugins, but a plugin whose package declares a manifest is not imported: it comes back
 * deferred, for the caller to import when a command or a pipeline needs one of its steps (a
 * `shipgate validate` of a pipeline without them then never evaluates the plugin).
 */
export async function loadPluginsDeferred(env: Readonly<Record<string, string | undefined>> = process.env, cwd = process.cwd(), bundled: BundledPlugins = {}): Promise<{ plugins: ShipgatePlugin[]; deferred: DeferredPlugin[] }> {
  const plugins: ShipgatePlugin[] = [];
  const deferred: DeferredPlugin[] = [];
  for (const specifier of requestedPlugins(env)) {
    const found = bundled[specifier] ? undefined : manifestOf(specifier, cwd);
    if (found) {
      let loading: Promise<ShipgatePlugin> | undefined;
      const load = () => (loading ??= importPlugin(found.target, cwd, specifier).then((p) => p ?? notAPlugin(specifier)));
      deferred.push({ specifier, steps: found.manifest.steps, load });
      continue;
    }
    const plugin = bundled[specifier] ?? (await importPlugin(specifier, cwd));
    if (plugin) plugins.push(plugin);
  }
  return { plugins, deferred };
}

function notAPlugin(specifier: string): never {
  throw new ShipgateError('plugin.load', `cannot load plugin ${specifier}`, { hint: 'check that the package is installed' });
}

function requestedPlugins(env: Readonly<Record<string, string | undefined>>): string[] {
  const requested = (env.SHIPGATE_PLUGINS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  return [...new Set([...firstPartyPlugins, ...requested])];
}

/** Imports the first-party plugins that are installed and those named in SHIPGATE_PLUGINS. */
export async function loadPlugins(env: Readonly<Record<string, string | undefined>> = process.env, cwd = process.cwd(), bundled: BundledPlugins = {}): Promise<ShipgatePlugin[]> {
  const result: ShipgatePlugin[] = [];
  for (const specifier of requestedPlugins(env)) {
    const plugin = bundled[specifier] ?? (await importPlugin(specifier, cwd));
    if (plugin) result.push(plugin);
  }
  return result;
}
