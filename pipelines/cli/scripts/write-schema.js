// Writes schema/shipgate.schema.json from the zod schemas (npm run schema -w @shipgate/cli).
// A test fails when the committed file and the code disagree.
import { writeFileSync } from 'node:fs';
import { pipelineJsonSchema } from '@shipgate/core';
import { defaultRegistry, loadPlugins } from '../dist/index.js';

const plugins = await loadPlugins({}); // the first-party plugins' steps (db-test) belong in the schema

const file = new URL('../schema/shipgate.schema.json', import.meta.url);
writeFileSync(file, `${JSON.stringify(pipelineJsonSchema(defaultRegistry(plugins)), null, 2)}\n`);
console.log(`wrote ${file.pathname.split('/').slice(-2).join('/')}`);
