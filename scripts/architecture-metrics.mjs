// Prints the architecture figures of issue 17 for the given source folders: files, lines, modules
// in an import cycle (dependency-cruiser), the longest functions and the counts over the size rule
// (ESLint's max-lines-per-function 80 / max-lines 400, blank lines and comments not counted).
// usage: node scripts/architecture-metrics.mjs [src folders…]   (default: every package's src)
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

const root = process.cwd();
const bin = (name) => path.join(import.meta.dirname, '..', 'node_modules', '.bin', name);
const packages = readdirSync(path.join(root, 'pipelines')).filter((name) => statSync(path.join(root, 'pipelines', name, 'src'), { throwIfNoEntry: false })?.isDirectory()).map((name) => `pipelines/${name}/src`);
const folders = process.argv.slice(2).length > 0 ? process.argv.slice(2) : [...packages, 'test-harness/src', 'bolt-app/src', 'actions/src'];

function tsFiles(dir) {
  return readdirSync(dir, { recursive: true }).map((f) => path.join(dir, String(f))).filter((f) => f.endsWith('.ts') && statSync(f).isFile());
}
const files = folders.flatMap(tsFiles);
const lines = files.reduce((n, f) => n + readFileSync(f, 'utf8').split('\n').length, 0);

const cruise = JSON.parse(execFileSync(bin('depcruise'), [...folders, '--no-config', '--ts-pre-compilation-deps', '--output-type', 'json', '--exclude', 'node_modules|dist', '--validate', path.join(import.meta.dirname, 'cycles.cjs')], { cwd: root, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 }));
const inCycle = new Set(cruise.modules.filter((m) => !m.source.includes('node_modules') && m.dependencies.some((d) => d.circular)).map((m) => m.source));

const rules = JSON.stringify({ 'max-lines-per-function': ['error', { max: 1, skipBlankLines: true, skipComments: true }], 'max-lines': ['error', { max: 400, skipBlankLines: true, skipComments: true }] });
let lint;
try {
  lint = execFileSync(bin('eslint'), [...folders, '--rule', rules, '-f', 'json'], { cwd: root, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
} catch (error) {
  lint = error.stdout; // eslint exits 1 when it reports
}
const functions = [];
let longFiles = 0;
for (const file of JSON.parse(lint)) {
  for (const m of file.messages) {
    if (m.ruleId === 'max-lines') longFiles += 1;
    if (m.ruleId !== 'max-lines-per-function') continue;
    functions.push({ length: Number(/\((\d+)\)/.exec(m.message)[1]), where: `${path.relative(root, file.filePath)}:${m.line}`, name: m.message.split(' has ')[0] });
  }
}
functions.sort((a, b) => b.length - a.length);
console.log(`source files      ${files.length} (${lines.toLocaleString('en-US')} lines)`);
console.log(`modules in cycles ${inCycle.size}`);
console.log(`functions > 80    ${functions.filter((f) => f.length > 80).length}`);
console.log(`files > 400       ${longFiles}`);
console.log('longest functions');
for (const f of functions.slice(0, 5)) console.log(`  ${String(f.length).padStart(4)}  ${f.name}  ${f.where}`);
