// Writes schema/shipgate.schema.json from the zod schemas (npm run schema -w pipelines).
// A test fails when the committed file and the code disagree.
import { writeFileSync } from 'node:fs';
import { pipelineJsonSchema } from '../dist/config/index.js';
import { loadPlugins } from '../dist/plugins.js';
import { defaultRegistry } from '../dist/steps/registry.js';

await loadPlugins({}); // the first-party plugins' steps (db-test) belong in the schema

const file = new URL('../schema/shipgate.schema.json', import.meta.url);
writeFileSync(file, `${JSON.stringify(pipelineJsonSchema(defaultRegistry()), null, 2)}\n`);
console.log(`wrote ${file.pathname.split('/').slice(-2).join('/')}`);
