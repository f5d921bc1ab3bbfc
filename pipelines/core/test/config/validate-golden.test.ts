// A pipeline in the shape of a large real CI (fixtures/golden/deno-ci-shaped.yml) with one mistake
// of each kind the validator's parts find: the pipeline env, step outputs, matrix axes and exclude,
// timeout, executor, needs, contexts, working-directory, run/uses and inputs, cycles. Every line is
// pinned (position, message, code and hint, in order), so a change to any part shows here.
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { defaultRegistry } from '@shipgate/cli';
import { ShipgateError } from '@shipgate/protocol';
import { parsePipeline } from '../../src/config/index.js';

const text = readFileSync(path.join(import.meta.dirname, 'fixtures/golden/deno-ci-shaped.yml'), 'utf8');

function report(): string[] {
  try {
    parsePipeline(text, 'shipgate.yml', { registry: defaultRegistry() });
  } catch (error) {
    if (!(error instanceof ShipgateError)) throw error;
    return [error, ...error.related].map((e) => `${e.location?.line}:${e.location?.column} ${e.message} [${e.code}]${e.hint ? ` — ${e.hint}` : ''}`);
  }
  throw new Error('the fixture validated');
}

describe('validate on a CI-shaped pipeline with one mistake of each kind', () => {
  it('reports every problem at its line and column, sorted, with its code and hint', () => {
    expect(report()).toEqual([
    "7:16 env.RELEASE: the pipeline's env cannot read steps.pre_build.outputs.skip_build: it is set for every step, and most run before \"pre_build\" [config.expression] — move it to the env: of a step that needs \"pre_build\"",
    "16:9 step \"build\" reads steps.pre_build.outputs.docs_onyl, but \"pre_build\" declares no output \"docs_onyl\" — did you mean \"docs_only\"? [config.expression] — outputs of \"pre_build\": skip_build, docs_only",
    "18:35 step \"build\": matrix axis os lists \"linux\" twice (items 1 and 4) [config.matrix] — each value of an axis must differ",
    "21:24 step \"build\": exclude[0] names \"profle\", which is not an axis — did you mean \"profile\"? [config.matrix] — axes: os, profile",
    "22:67 step \"build\": matrix.arch is not an axis of its matrix [config.expression] — axes: os, profile",
    "23:14 step \"build\": timeout \"240 minutes\" is not a duration [config.duration] — write it with units: 500ms, 90s, 10m, 1h30m",
    "24:15 step \"build\": executor \"codebuild:deno ci\": \"deno ci\" is not a CodeBuild project name [config.executor] — project names are 2–255 letters, digits, - and _, starting with a letter or digit",
    "26:20 step \"bench\" needs \"pre_buld\", which is not a step — did you mean \"pre_build\"? [config.unknown-need] — steps: pre_build, build, bench, lint, test, publish",
    "28:26 step \"bench\": unknown context \"github\" at column 2; contexts: env, matrix, steps, ci [config.expression] — expressions use literals, contexts (env, matrix, steps, ci), == != < > && || ! and functions like contains()",
    "29:24 step \"bench\": working-directory must be relative to shipgate.yml [config.type]",
    "30:3 step \"lint\" needs exactly one of run: or uses: (it has both) [config.run-and-uses] — run: a shell script, or uses: a registered step (shipgate steps lists them)",
    "30:3 step \"lint\": run needs the input \"script\" [config.step-input] — see `shipgate steps` and the run docs",
    "35:28 step \"test\" reads steps.bench, which does not run before it [config.expression] — add \"bench\" to the needs of \"test\"",
    "35:73 step \"test\": matrix.os is not an axis of its matrix [config.expression] — this step has no matrix",
    "35:126 step \"test\": unexpected character \"&\" at column 37 [config.expression] — expressions use literals, contexts (env, matrix, steps, ci), == != < > && || ! and functions like contains()",
    "36:5 step \"test\": with: goes with uses:, not run: [config.unknown-key] — pass values to a script through env:",
    "38:13 step \"publish\" needs itself [config.cycle] — remove this need, or another need of the cycle",
    "39:19 step \"publish\" reads steps.build, which does not run before it [config.expression] — add \"build\" to the needs of \"publish\"",
    ]);
  });
});
