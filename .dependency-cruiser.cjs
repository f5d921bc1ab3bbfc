// The layer rules of the architecture (the root README draws them), checked on every test run
// (test/workspace/static-checks.test.ts): no import cycle anywhere in the source, and every import
// between packages points down: protocol ← core ← steps (aws, image, quality-gate, slack, verify,
// test-harness's db-test) ← doors (cli, danger, actions, bolt-app).
const pkg = (name) => `^pipelines/${name}/src/`;
const steps = ['aws', 'image', 'quality-gate', 'slack', 'verify'];
// the test harness's own layers (runners → harness → template → providers → sql/lifecycle)
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a CommonJS config reads another
const harnessLayers = require('./test-harness/.dependency-cruiser.cjs').forbidden.filter((rule) => rule.name !== 'no-circular');
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'an import cycle: split the shared part into a module both can import', from: {}, to: { circular: true } },
    { name: 'protocol-imports-nothing-above', severity: 'error', comment: 'the protocol layer is the bottom: it imports no other shipgate code', from: { path: pkg('protocol') }, to: { path: '^(pipelines/(?!protocol/)|test-harness/|bolt-app/|actions/)' } },
    { name: 'core-imports-only-protocol', severity: 'error', comment: 'core may use the protocol only, never a step package or a door', from: { path: pkg('core') }, to: { path: '^(pipelines/(?!(core|protocol)/)|test-harness/|bolt-app/|actions/)' } },
    ...steps.map((name) => ({ name: `${name}-imports-only-down`, severity: 'error', comment: 'a step package uses the protocol and core, not another step package or a door', from: { path: pkg(name) }, to: { path: `^(pipelines/(?!(${name}|core|protocol)/)|test-harness/|bolt-app/|actions/)` } })),
    { name: 'test-harness-imports-only-protocol', severity: 'error', comment: 'the harness (and its db-test step) speaks the protocol only', from: { path: '^test-harness/src/' }, to: { path: '^(pipelines/(?!protocol/)|bolt-app/|actions/)' } },
    { name: 'no-door-imports-a-door', severity: 'error', comment: 'doors do not import each other', from: { path: '^pipelines/(cli|danger)/src/' }, to: { path: '^(bolt-app|actions)/' } },
    { name: 'slack-app-imports-no-action', severity: 'error', comment: 'doors do not import each other', from: { path: '^bolt-app/src/' }, to: { path: '^actions/' } },
    ...harnessLayers,
    { name: 'src-never-imports-tests', severity: 'error', from: { path: '/src/' }, to: { path: '/(test|bench)/' } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(node_modules|dist)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.tests.json' },
    combinedDependencies: false,
  },
};
