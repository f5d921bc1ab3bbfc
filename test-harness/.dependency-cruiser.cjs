// The layers of test-harness/src, checked by dependency-cruiser: every import points down, and
// there is no import cycle. From the top: runner integrations (jest/, vitest/, runner/, plugin.ts,
// index.ts) → the harness (harness.ts, check/) → the template's content (migrations/) → where a
// database lives (providers/) → SQL text and clients (sql/) and ownership of what a run leaves
// (lifecycle/). Run: npx depcruise test-harness/src --config test-harness/.dependency-cruiser.cjs
const src = '^test-harness/src/';
const runners = `${src}(jest|vitest|runner)/|${src}(plugin|index)\\.ts$`;
const harness = `${src}(harness\\.ts$|check/)`;
const template = `${src}migrations/`;
const providers = `${src}providers/`;
const bottom = `${src}(sql|lifecycle)/`;

/** A rule that forbids `from` importing any of `above`. */
const below = (name, from, above) => ({ name, severity: 'error', comment: `${name}: imports only point down`, from: { path: from }, to: { path: above.join('|') } });

module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'no import cycle', from: {}, to: { circular: true } },
    below('harness-imports-no-runner', harness, [runners]),
    below('template-imports-no-harness', template, [runners, harness]),
    below('providers-import-no-template', providers, [runners, harness, template]),
    below('sql-and-lifecycle-import-nothing-above', bottom, [runners, harness, template, providers]),
    below('sql-and-lifecycle-stay-apart', `${src}lifecycle/`, [`${src}sql/`]),
    below('optional-imports-nothing-above', `${src}optional\\.ts$`, [runners, harness, template, providers, bottom]),
  ],
  options: {
    includeOnly: '^test-harness/src/',
    tsPreCompilationDeps: true,
  },
};
