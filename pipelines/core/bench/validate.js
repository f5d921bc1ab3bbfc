// Validation benchmark (node bench/validate.js; needs `npm run build` first). How long
// `shipgate validate`'s checks take on pipelines of thousands of steps, against the obvious floor:
// parsing the same text with the YAML library alone. Before issue 14 a 20,000-step chain took
// 40 s (quadratic key lookups and upstream sets); the checks should now cost a fraction of the parse.
import { parseDocument, LineCounter } from 'yaml';
import { parsePipeline, planPipeline } from '@shipgate/core';
import { defaultRegistry } from '@shipgate/cli';

const registry = defaultRegistry();
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const cpuMs = (f) => {
  const start = process.cpuUsage();
  f();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
};
const chain = (n) => `name: chain\nsteps:\n  s0: { run: echo }\n${Array.from({ length: n - 1 }, (_, i) => `  s${i + 1}: { run: "echo \${{ steps.s${i}.outcome }}", needs: s${i} }`).join('\n')}\n`;
const compactChain = (n) => `name: chain\nsteps:\n  s0: { run: echo }\n${Array.from({ length: n - 1 }, (_, i) => `  s${i + 1}: { run: echo, needs: s${i} }`).join('\n')}\n`;
const cycle = (n) => `name: cycle\nsteps:\n${Array.from({ length: n }, (_, i) => `  s${i}: { run: echo, needs: [s${(i + 1) % n}] }`).join('\n')}\n`;
const unknownNeeds = (n) => `name: unknown\nsteps:\n${Array.from({ length: n }, (_, i) => `  s${i}: { run: echo, needs: [missing${i}] }`).join('\n')}\n`;

const rows = [];
for (const [label, text] of [
  ['5,000-step chain, each reads the last', chain(5000)],
  ['20,000-step chain (no reads)', compactChain(20_000)],
  ['4,750-step cycle', cycle(4750)],
  ['5,000 unknown needs', unknownNeeds(5000)],
]) {
  const parse = [];
  const validate = [];
  for (let round = 0; round < 5; round += 1) {
    parse.push(cpuMs(() => parseDocument(text, { lineCounter: new LineCounter(), uniqueKeys: false })));
    validate.push(
      cpuMs(() => {
        try {
          planPipeline(parsePipeline(text, 'shipgate.yml', { registry }));
        } catch {
          // the invalid ones are the point: the time to a full report
        }
      }),
    );
  }
  const p = median(parse);
  const v = median(validate);
  rows.push({ pipeline: label, 'KiB': Math.round(text.length / 1024), 'YAML parse ms': Math.round(p), 'validate ms': Math.round(v), 'validate / parse': (v / p).toFixed(2), 'under 1 s': v < 1000 ? 'yes' : 'no' });
}
console.table(rows);
