// Plugins: packages that add steps (and CLI commands) without the engine knowing them. shipgate's
// own packages that live outside this one (the test harness's db-test step and `shipgate db`) are
// loaded when installed; a team adds its own with SHIPGATE_PLUGINS=pkg-a,./local-plugin.js.
// loadPlugins returns the plugins; nothing here keeps them: the caller builds its step registry
// (defaultRegistry(plugins)) and its command tree from what it got.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ShipgateError } from '@shipgate/protocol';
import type { ShipgatePlugin } from '@shipgate/protocol';

/** shipgate's own plugins, loaded when their package is installed. */
export const firstPartyPlugins = ['@shipgate/test-harness/plugin'];

/**
 * Plugins compiled into a bundle (the GitHub actions), by the specifier they would be imported as:
 * a bundle has no node_modules to import them from.
 */
export type BundledPlugins = Readonly<Record<string, ShipgatePlugin>>;

function notInstalled(error: unknown, specifier: string): boolean {
  const e = error as NodeJS.ErrnoException;
  const pkg = specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/');
  return (e.code === 'ERR_MODULE_NOT_FOUND' || e.code === 'MODULE_NOT_FOUND') && String(e.message).includes(pkg);
}

async function importPlugin(specifier: string, cwd: string): Promise<ShipgatePlugin | undefined> {
  const firstParty = firstPartyPlugins.includes(specifier);
  const target = specifier.startsWith('.') || path.isAbsolute(specifier) ? pathToFileURL(path.resolve(cwd, specifier)).href : specifier;
  let mod: { default?: unknown; plugin?: unknown };
  try {
    mod = (await import(target)) as typeof mod;
  } catch (error) {
    if (firstParty && notInstalled(error, specifier)) return undefined;
    throw new ShipgateError('plugin.load', `cannot load plugin ${specifier}: ${(error as Error).message}`, { hint: 'check SHIPGATE_PLUGINS and that the package is installed' });
  }
  const plugin = (mod.default ?? mod.plugin) as ShipgatePlugin | undefined;
  if (!plugin || typeof plugin !== 'object' || typeof plugin.name !== 'string') {
    throw new ShipgateError('plugin.load', `${specifier} is not a shipgate plugin`, { hint: 'export default { name, steps: [...], commands: [...] }' });
  }
  return plugin;
}

/** Imports the first-party plugins that are installed and those named in SHIPGATE_PLUGINS. */
export async function loadPlugins(env: Readonly<Record<string, string | undefined>> = process.env, cwd = process.cwd(), bundled: BundledPlugins = {}): Promise<ShipgatePlugin[]> {
  const requested = (env.SHIPGATE_PLUGINS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const result: ShipgatePlugin[] = [];
  for (const specifier of [...new Set([...firstPartyPlugins, ...requested])]) {
    const plugin = bundled[specifier] ?? (await importPlugin(specifier, cwd));
    if (plugin) result.push(plugin);
  }
  return result;
}
