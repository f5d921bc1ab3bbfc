import ts from 'typescript';
import { readFileSync } from 'node:fs';
import path from 'node:path';
const pkg = process.argv[2];
const dir = `pipelines/${pkg}/src`;
const index = readFileSync(`${dir}/index.ts`, 'utf8');
const rows = [];
for (const m of index.matchAll(/export\s+(type\s+)?\{([^}]*)\}\s*from\s*'([^']+)'/g)) {
  const file = path.join(dir, m[3].replace(/\.js$/, '.ts'));
  const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  for (const raw of m[2].split(',').map((s) => s.trim()).filter(Boolean)) {
    const [orig, alias] = raw.replace(/^type\s+/, '').split(/\s+as\s+/);
    let doc = '';
    const visit = (node) => {
      const name = node.name && ts.isIdentifier(node.name) ? node.name.text : undefined;
      if (name === orig && !doc) {
        let n = node;
        if (ts.isVariableDeclaration(n)) n = n.parent.parent;
        const jsdoc = ts.getJSDocCommentsAndTags(n).find(ts.isJSDoc);
        if (jsdoc && typeof jsdoc.comment === 'string') doc = jsdoc.comment.replace(/\s+/g, ' ').split(/(?<=\.)\s/)[0];
        else if (jsdoc && jsdoc.comment) doc = jsdoc.comment.map((c) => c.text ?? '').join('').replace(/\s+/g, ' ').split(/(?<=\.)\s/)[0];
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
    rows.push({ name: alias ?? orig, kind: m[1] ? 'type' : 'value', doc, from: m[3] });
  }
}
console.log('| name | kind | what it is |\n| --- | --- | --- |');
for (const r of rows) console.log(`| \`${r.name}\` | ${r.kind} | ${r.doc || 'TODO (' + r.from + ')'} |`);
