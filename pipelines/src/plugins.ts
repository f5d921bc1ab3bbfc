// Plugins: packages that add steps (and CLI commands) without the engine knowing them. shipgate's
// own packages that live outside this one (the test harness's db-test step and `shipgate db`) are
// loaded when installed; a team adds its own with SHIPGATE_PLUGINS=pkg-a,./local-plugin.js.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ShipgateError } from './errors.js';
import type { StepDefinition } from './steps/define.js';
import type { CommandRegistrar } from './cli/program.js';

export interface ShipgatePlugin {
  name: string;
  steps?: readonly StepDefinition[];
  commands?: readonly CommandRegistrar[];
}

/** shipgate's own plugins, loaded when their package is installed. */
export const firstPartyPlugins = ['@shipgate/test-harness/plugin'];

let loaded: ShipgatePlugin[] = [];
let loading: Promise<ShipgatePlugin[]> | undefined;
// Plugins compiled into a bundle (the GitHub actions), by the specifier they would be imported as:
// a bundle has no node_modules to import them from.
const bundled = new Map<string, ShipgatePlugin>();

/** Makes a plugin that is compiled into this program available as `specifier` (before loadPlugins). */
export function addBundledPlugin(specifier: string, plugin: ShipgatePlugin): void {
  bundled.set(specifier, plugin);
  if (!loaded.includes(plugin)) loaded = [...loaded, plugin];
}

export function loadedPlugins(): readonly ShipgatePlugin[] {
  return loaded;
}

function notInstalled(error: unknown, specifier: string): boolean {
  const e = error as NodeJS.ErrnoException;
  const pkg = specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/');
  return (e.code === 'ERR_MODULE_NOT_FOUND' || e.code === 'MODULE_NOT_FOUND') && String(e.message).includes(pkg);
}

/** Imports first-party plugins that are installed and those named in SHIPGATE_PLUGINS (once per process). */
export function loadPlugins(env: Readonly<Record<string, string | undefined>> = process.env, cwd = process.cwd()): Promise<ShipgatePlugin[]> {
  loading ??= (async () => {
    const requested = (env.SHIPGATE_PLUGINS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    const result: ShipgatePlugin[] = [];
    for (const specifier of [...firstPartyPlugins, ...requested]) {
      const firstParty = firstPartyPlugins.includes(specifier);
      const inBundle = bundled.get(specifier);
      if (inBundle) {
        result.push(inBundle);
        continue;
      }
      const target = specifier.startsWith('.') || path.isAbsolute(specifier) ? pathToFileURL(path.resolve(cwd, specifier)).href : specifier;
      let mod: { default?: unknown; plugin?: unknown };
      try {
        mod = (await import(target)) as typeof mod;
      } catch (error) {
        if (firstParty && notInstalled(error, specifier)) continue;
        throw new ShipgateError('plugin.load', `cannot load plugin ${specifier}: ${(error as Error).message}`, { hint: 'check SHIPGATE_PLUGINS and that the package is installed' });
      }
      const plugin = (mod.default ?? mod.plugin) as ShipgatePlugin | undefined;
      if (!plugin || typeof plugin !== 'object' || typeof plugin.name !== 'string') {
        throw new ShipgateError('plugin.load', `${specifier} is not a shipgate plugin`, { hint: 'export default { name, steps: [...], commands: [...] }' });
      }
      result.push(plugin);
    }
    loaded = result;
    return result;
  })();
  return loading;
}

export function pluginSteps(): StepDefinition[] {
  return loaded.flatMap((p) => [...(p.steps ?? [])]);
}

export function pluginCommands(): CommandRegistrar[] {
  return loaded.flatMap((p) => [...(p.commands ?? [])]);
}
