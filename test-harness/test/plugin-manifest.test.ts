// The package.json manifest ("shipgate": { plugin, steps }) lets the shipgate CLI know the db-test
// step without importing the plugin: it must name exactly the steps the plugin module defines.
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import plugin from '../src/plugin.js';

const pkg = JSON.parse(readFileSync(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../package.json'), 'utf8')) as {
  exports: Record<string, { default?: string }>;
  shipgate: { plugin: string; steps: string[] };
};

describe('the test harness plugin manifest', () => {
  it('declares the steps the plugin defines', () => {
    expect([...pkg.shipgate.steps].sort()).toEqual((plugin.steps ?? []).map((s) => s.name).sort());
  });

  it('points at the module the ./plugin export names', () => {
    expect(pkg.shipgate.plugin).toBe(pkg.exports['./plugin']?.default);
  });
});
