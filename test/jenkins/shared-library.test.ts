// The Jenkins shared library (vars/*.groovy, Jenkinsfile.shared) run by Groovy 2.4 — the line
// Jenkins' pipelines use — against a stand-in for the pipeline DSL (test/jenkins/standin/) that
// records every step call. Its `sh` really runs the built shipgate CLI on real pipelines in temp
// directories, so the stages come from a real `shipgate plan --json` and parallel branches really
// run side by side in one workspace. A loopback HTTP server stands in for the Slack app: it takes
// POST /api/approvals and /api/deployments and answers the Jenkins input the way the app does
// (crumb from /crumbIssuer/api/json, then POST <build>/input/ShipgateApproval/proceedEmpty or
// /abort). All scenarios run in one JVM (Groovy start-up is the slow part).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '../..');
const standin = path.join(root, 'test/jenkins/standin');
const cliMain = path.join(root, 'pipelines/cli/dist/cli/main.js');

function onPath(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, command);
    if (dir && existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** JAVA_HOME for the groovy launcher: as set, else from `java` on PATH (Debian's default-java link may be missing). */
function javaHome(): string | undefined {
  const set = process.env.JAVA_HOME;
  if (set && existsSync(path.join(set, 'bin', 'java'))) return set;
  const java = onPath('java');
  return java ? path.dirname(path.dirname(realpathSync(java))) : undefined;
}

const groovy = onPath('groovy');
const java = javaHome();
const missing = !groovy
  ? 'groovy is not installed (apt-get install groovy)'
  : !java
    ? 'no Java runtime for groovy'
    : !existsSync(cliMain)
      ? 'pipelines is not built (npm run build)'
      : undefined;

// --- the Slack app stand-in ---------------------------------------------------------------------

const apiToken = 'sg-api-t0ken-5ecret';
const secrets = {
  sonar: 'sonar-5ecret-login',
  registryUser: 'reg-user-5ecret',
  registryPassword: 'reg-pa55word-5ecret',
  kubeconfig: 'kubeconfig-5ecret-content',
  awsKey: 'AKIA5ECRETKEYID0',
  awsSecret: 'aws-5ecret-access-key',
};
const credentials = {
  sonar: { type: 'string', secret: secrets.sonar },
  'sonar-token': { type: 'string', secret: secrets.sonar },
  registry: { type: 'usernamePassword', username: secrets.registryUser, password: secrets.registryPassword },
  kubeconfig: { type: 'file', content: secrets.kubeconfig },
  aws: { type: 'aws', accessKey: secrets.awsKey, secretKey: secrets.awsSecret },
  'aws-deploy': { type: 'aws', accessKey: secrets.awsKey, secretKey: secrets.awsSecret },
  'shipgate-api-token': { type: 'string', secret: apiToken },
};

/** How the app's approver answers each job's approval: proceed, abort, or never. */
const decisions: Record<string, 'proceedEmpty' | 'abort'> = { approved: 'proceedEmpty', rejected: 'abort' };

interface AppCall {
  path: string;
  authorized: boolean;
  body: Record<string, unknown>;
  jenkins?: { crumb: number; answers: number[] };
}
const appCalls: AppCall[] = [];

async function answerJenkins(call: AppCall): Promise<void> {
  const backend = call.body.backend as { buildUrl: string; inputId: string };
  const job = /\/job\/([^/]+)\//.exec(backend.buildUrl)?.[1] ?? '';
  const decision = decisions[job];
  if (!decision) return; // nobody answers: the build's timeout ends the wait
  const auth = `Basic ${Buffer.from('shipgate-slack:jenkins-api-token').toString('base64')}`;
  const crumbRes = await fetch(new URL('/crumbIssuer/api/json', backend.buildUrl), { headers: { authorization: auth } });
  const crumb = (await crumbRes.json()) as { crumb: string; crumbRequestField: string };
  call.jenkins = { crumb: crumbRes.status, answers: [] };
  // the input starts waiting just after the app answered the POST: a 404 until then
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const res = await fetch(`${backend.buildUrl}input/${backend.inputId}/${decision}`, { method: 'POST', headers: { authorization: auth, [crumb.crumbRequestField]: crumb.crumb } });
    call.jenkins.answers.push(res.status);
    if (res.status !== 404) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

const app = http.createServer((req, res) => {
  let text = '';
  req.on('data', (c: Buffer) => (text += c.toString()));
  req.on('end', () => {
    const call: AppCall = { path: `${req.method} ${req.url}`, authorized: req.headers.authorization === `Bearer ${apiToken}`, body: {} };
    try {
      call.body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      call.body = { unparsable: text };
    }
    appCalls.push(call);
    res.setHeader('content-type', 'application/json');
    if (!call.authorized) {
      res.writeHead(401).end(JSON.stringify({ error: 'unauthorized' }));
      return;
    }
    if (call.path === 'POST /api/approvals') {
      res.writeHead(201).end(JSON.stringify({ id: `appr-${appCalls.length}`, state: 'pending', expiresAt: new Date(Date.now() + 3_600_000).toISOString() }));
      void answerJenkins(call).catch((error: Error) => (call.jenkins = { crumb: -1, answers: [String(error) as unknown as number] }));
      return;
    }
    if (call.path === 'POST /api/deployments') {
      res.writeHead(201).end(JSON.stringify({ id: `dep-${appCalls.length}` }));
      return;
    }
    res.writeHead(404).end(JSON.stringify({ error: 'not found' }));
  });
});

// --- the pipelines the scenarios run --------------------------------------------------------------

const levelsYaml = `name: levels
steps:
  lint: { run: 'sleep 0.4; echo linted' }
  unit:
    run: 'sleep 0.4; echo "sonar login=$SONAR_LOGIN registry=$REGISTRY_USER:$REGISTRY_PASSWORD aws=$AWS_SECRET_ACCESS_KEY kubeconfig=$KUBECONFIG"; test -s "$KUBECONFIG"'
  build:
    matrix: { target: [api, worker] }
    run: 'sleep 0.4; echo "artifact=\${{ matrix.target }}" >> "$SHIPGATE_OUTPUT"'
  package:
    needs: [build, unit, lint]
    run: 'echo "\${{ steps.build.outputs.artifact }}" > packaged'
`;

const failFastYaml = `name: failfast
steps:
  broken: { run: 'sleep 0.5; echo "compile error in src/app.ts"; exit 1' }
  slow: { run: 'sleep 20; touch slow-finished' }
  after: { needs: [broken, slow], run: 'touch after-ran' }
`;

const releaseYaml = `name: orders
steps:
  version: { run: 'echo "version=1.4.2" >> "$SHIPGATE_OUTPUT"', outputs: [version] }
  test: { run: 'echo "sonar=$SONAR_TOKEN"' }
  deploy:
    needs: [version, test]
    run: 'echo "deploying \${{ steps.version.outputs.version }} as $AWS_ACCESS_KEY_ID"; echo "\${{ steps.version.outputs.version }}" > deployed'
  rollback:
    needs: [deploy]
    if: \${{ failure() }}
    run: 'printf "%s|%s|%s" "$VERSION" "$ENVIRONMENT" "$REASON" > rolled-back'
`;

const brokenDeployYaml = `name: payments
steps:
  deploy: { run: 'echo "rolling out"; exit 3' }
  rollback: { needs: [deploy], run: 'printf "%s|%s|%s" "$ENVIRONMENT" "$REASON" "$FAILED_VERSION" > rolled-back' }
`;

const skippedYaml = `name: skipped
steps:
  docs: { if: "\${{ ci.branch == 'never-this-branch' }}", run: 'echo "url=fresh" >> "$SHIPGATE_OUTPUT"' }
  publish: { needs: [docs], run: 'echo "\${{ steps.docs.outputs.url }}" > published' }
`;

const sharedJenkinsfile = readFileSync(path.join(root, 'Jenkinsfile.shared'), 'utf8');
const library = "@Library('shipgate') _\n";
const injection = 'error rate up"; touch pwned; echo "$(touch pwned2)';

interface Scenario {
  name: string;
  yaml?: string;
  jenkinsfile: string;
  /** Laid over the common environment of the build (SHIPGATE_CLI, SHIPGATE_APP_URL). */
  env?: Record<string, string>;
  params?: Record<string, string>;
  /** Jenkins plugins whose steps the stand-in offers beyond the basic ones (`htmlpublisher`: publishHTML). */
  plugins?: string[];
}

const scenarios: Scenario[] = [
  {
    name: 'levels',
    yaml: levelsYaml,
    jenkinsfile: `${library}shipgatePipeline(file: 'shipgate.yml', credentials: [
  [type: 'string', id: 'sonar', variable: 'SONAR_LOGIN'],
  [type: 'usernamePassword', id: 'registry', usernameVariable: 'REGISTRY_USER', passwordVariable: 'REGISTRY_PASSWORD'],
  [type: 'file', id: 'kubeconfig', variable: 'KUBECONFIG'],
  [type: 'aws', id: 'aws'],
])`,
  },
  { name: 'skipped', yaml: skippedYaml, jenkinsfile: `${library}shipgatePipeline(file: 'shipgate.yml')` },
  { name: 'failfast', yaml: failFastYaml, jenkinsfile: `${library}shipgatePipeline(file: 'shipgate.yml')`, plugins: ['htmlpublisher'] },
  { name: 'approved', yaml: releaseYaml, jenkinsfile: sharedJenkinsfile },
  { name: 'rejected', yaml: releaseYaml, jenkinsfile: sharedJenkinsfile },
  { name: 'timeout', yaml: releaseYaml, jenkinsfile: `${library}shipgatePipeline(file: 'shipgate.yml', rollback: 'rollback', version: '9.9.9', approval: [timeout: '2s'])` },
  { name: 'brokendeploy', yaml: brokenDeployYaml, jenkinsfile: `${library}shipgatePipeline(file: 'shipgate.yml', environment: 'staging', version: '2.0.0', rollback: 'rollback')` },
  {
    name: 'rollbackfails',
    yaml: brokenDeployYaml,
    jenkinsfile: `${library}shipgatePipeline(file: 'shipgate.yml', version: '2.0.1', rollbackCommand: 'echo "undoing $FAILED_VERSION in $ENVIRONMENT"; exit 4')`,
  },
  {
    name: 'typo',
    jenkinsfile: `${library}shipgatePipeline(fiel: 'shipgate.yml', failfast: false, maxParallel: 'two', approval: [timout: '1h'], credentials: [[type: 'strng', id: 'x', variable: 'X']])`,
  },
  {
    // runner: no shipgate on the agent (SHIPGATE_CLI names nothing); the CLI comes from a clone of the
    // shipgate repository at a ref, as `shipgate export jenkins` writes it
    name: 'runner',
    yaml: 'name: lib\nsteps:\n  build: { run: "mkdir -p dist && echo built > dist/index.js" }\n  smoke: { needs: build, run: "cat dist/index.js > smoked" }\n',
    jenkinsfile: `${library}shipgatePipeline(file: 'shipgate.yml', runner: 'acme/shipgate@v0.1.0')`,
    env: { SHIPGATE_CLI: 'shipgate-is-not-installed' },
  },
  { name: 'steptypo', yaml: releaseYaml, jenkinsfile: `${library}shipgatePipeline(file: 'shipgate.yml', deploy: ['deplyo'], rollback: 'rolback')` },
  {
    // the pure parts as a table: the same Groovy the builds run, called directly
    name: 'pure',
    jenkinsfile: `${library}def p = shipgatePipeline
def plan = [pipeline: 'shop', levels: [['lint', 'unit', 'build', 'typecheck', 'integration', 'e2e-tests'], ['deploy-eu', 'package', 'release'], ['rollback']],
            steps: [lint: [uses: 'run'], unit: [uses: 'run'], build: [uses: 'run'], typecheck: [uses: 'run'], integration: [uses: 'run'], 'e2e-tests': [uses: 'run'],
                    'deploy-eu': [uses: 'run'], package: [uses: 'run'], release: [uses: 'codedeploy'], rollback: [uses: 'run']]]
def out = [
  durations: ['90s', '30m', '1h30m', '2h', ' 45s ', '', '1x', '0s', 'm', '30'].collect { p.parseDuration(it) },
  didYouMean: [['fiel', ['file', 'label']], ['zzzzzz', ['file', 'label']], ['Approval', ['approval']]].collect { p.didYouMean(it[0], it[1]) },
  layout: p.layoutStages(plan, [approval: [:]]),
  layoutExplicit: p.layoutStages(plan, [deploy: ['package'], rollback: 'rollback']),
  noDeploy: p.layoutStages([pipeline: 'x', levels: [['a']], steps: [a: [uses: 'run']]], [approval: [timeout: '1h']]).problems,
  baseEnv: p.baseEnv(p.withDefaults([credentials: [[type: 'aws', id: 'a']], maxParallel: 2, env: [FOO: 'bar']], [:]), 'EXISTING,AWS_ACCESS_KEY_ID'),
  defaults: p.withDefaults([file: 'services/api/shipgate.yml', approval: true], [GIT_COMMIT: '0123456789abcdef', SHIPGATE_CLI: 'npx shipgate']).subMap(['stateRoot', 'shipgate', 'approval', 'defaultVersion', 'environment']),
  reportUrls: ['https://ci.example.com/job/orders/42/shipgate/', 'javascript:alert(1)', null].collect { p.deploymentRecord([service: 'orders', environment: 'prod'], '1.0', 'succeeded', [BUILD_URL: 'https://ci.example.com/job/orders/42/', SHIPGATE_REPORT_URL: it]).reportUrl },
]
echo('PURE ' + groovy.json.JsonOutput.toJson(out))
`,
  },
  {
    name: 'rollbackjob',
    yaml: releaseYaml,
    jenkinsfile: `${library}shipgateRollback(file: 'shipgate.yml', step: 'rollback', environments: ['staging', 'production'])`,
    params: { VERSION: '1.4.1', ENVIRONMENT: 'production', REASON: injection },
  },
  {
    name: 'rollbackbadenv',
    yaml: releaseYaml,
    jenkinsfile: `${library}shipgateRollback(file: 'shipgate.yml', step: 'rollback', environments: ['staging', 'production'])`,
    params: { VERSION: '1.4.1', ENVIRONMENT: 'prodution', REASON: '' },
  },
];

// --- reading the results --------------------------------------------------------------------------

interface Call {
  step: string;
  args: Record<string, unknown>;
  children?: Call[];
  status?: string;
  at: number;
  endedAt?: number;
  durationMs?: number;
  exitCode?: number;
  interrupted?: boolean;
  env?: Record<string, string>;
  output?: string[];
  [key: string]: unknown;
}
interface Build {
  name: string;
  result: string;
  error: string | null;
  description: string | null;
  calls: Call[];
  console: string[];
  http: { method: string; path: string; crumb: boolean; user: string | null }[];
}

/** A bin directory whose `git clone … DEST` copies actions/shared/dist into DEST (logged in <work>/clones.log). */
function fakeGit(work: string): string {
  const bin = path.join(work, 'bin');
  mkdirSync(bin, { recursive: true });
  const real = onPath('git')!;
  writeFileSync(
    path.join(bin, 'git'),
    [
      '#!/bin/sh',
      'if [ "$1" = clone ]; then',
      '  for a in "$@"; do dest="$a"; done',
      `  echo "$*" >> ${JSON.stringify(path.join(work, 'clones.log'))}`,
      `  mkdir -p "$dest/actions/shared" && cp -r ${JSON.stringify(path.join(root, 'actions', 'shared', 'dist'))} "$dest/actions/shared/"`,
      '  exit',
      'fi',
      `exec ${real} "$@"`,
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  return bin;
}

function all(calls: Call[], step?: string): Call[] {
  const found: Call[] = [];
  const walk = (list: Call[]): void => {
    for (const c of list) {
      if (!step || c.step === step) found.push(c);
      walk(c.children ?? []);
    }
  };
  walk(calls);
  return found;
}
const stages = (b: Build): [string, string][] => all(b.calls, 'stage').map((s) => [String(s.args.name), String(s.status)]);
const stage = (b: Build, name: string): Call => {
  const s = all(b.calls, 'stage').find((c) => c.args.name === name);
  if (!s) throw new Error(`no stage "${name}" in ${JSON.stringify(stages(b))}`);
  return s;
};
const labels = (calls: Call[]): string[] => all(calls, 'sh').map((s) => String(s.args.label));
const posted = (job: string, what: string): AppCall[] =>
  appCalls.filter((c) => c.path === `POST /api/${what}` && (String((c.body.backend as { buildUrl?: string } | undefined)?.buildUrl ?? c.body.url ?? '').includes(`/job/${job}/`)));

// --- running them ---------------------------------------------------------------------------------

const dirs: string[] = [];
const workspaces: Record<string, string> = {};
const builds: Record<string, Build> = {};
let groovyOutput = '';
let child: ChildProcess | undefined;

if (missing && process.env.CI !== 'true') {
  describe('Jenkins shared library', () => {
    it.skip(`skipped: ${missing}`, () => undefined);
  });
  console.warn(`test/jenkins: skipped — ${missing}`);
} else {
  describe('Jenkins shared library (vars/, Jenkinsfile.shared) against the pipeline-DSL stand-in', () => {
    beforeAll(async () => {
      if (missing) throw new Error(`the Jenkins library tests cannot run: ${missing}`);
      await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
      const appUrl = `http://127.0.0.1:${(app.address() as AddressInfo).port}`;
      const shipgateCli = `${process.execPath} ${cliMain}`;
      if (/\s/.test(process.execPath) || /\s/.test(cliMain)) throw new Error('the node or shipgate path has a space; SHIPGATE_CLI is word-split by the shell');
      const work = mkdtempSync(path.join(os.tmpdir(), 'sg-jenkins-'));
      dirs.push(work);
      const input = {
        library: root,
        // builds side by side, as on a Jenkins controller: the waits (approval, timeout) overlap
        parallel: 3,
        scenarios: scenarios.map((s) => {
          const ws = mkdtempSync(path.join(work, `${s.name}-`));
          workspaces[s.name] = ws;
          if (s.yaml) writeFileSync(path.join(ws, 'shipgate.yml'), s.yaml);
          if (s.name === 'skipped') {
            // an earlier build's success of docs, which this build skips
            mkdirSync(path.join(ws, '.shipgate', 'outputs'), { recursive: true });
            writeFileSync(path.join(ws, '.shipgate', 'outputs', 'docs.json'), JSON.stringify({ at: '2026-01-01T00:00:00.000Z', outputs: { url: 'stale' } }));
          }
          const env: Record<string, string> = { SHIPGATE_CLI: shipgateCli, SHIPGATE_APP_URL: appUrl, ...s.env };
          // `git clone` of the runner stands in as a copy of this checkout's committed bundle; other git calls are git's
          if (s.name === 'runner') env.PATH = `${fakeGit(work)}${path.delimiter}${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH}`;
          return { name: s.name, workspace: ws, jenkinsfile: s.jenkinsfile, params: s.params ?? {}, plugins: s.plugins ?? [], credentials, env };
        }),
      };
      const scenariosFile = path.join(work, 'scenarios.json');
      const resultsFile = path.join(work, 'results.json');
      writeFileSync(scenariosFile, JSON.stringify(input));
      // a small, explicit environment: nothing of this machine's own leaks into the builds
      const env = { PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH}`, HOME: process.env.HOME, TMPDIR: os.tmpdir(), LANG: 'C.UTF-8', JAVA_HOME: java, SHIPGATE_SPAWNER: process.env.SHIPGATE_SPAWNER };
      child = spawn(groovy!, ['-cp', `${path.join(standin, 'classes')}${path.delimiter}${standin}`, path.join(standin, 'run.groovy'), scenariosFile, resultsFile], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout!.on('data', (c: Buffer) => (groovyOutput += c.toString()));
      child.stderr!.on('data', (c: Buffer) => (groovyOutput += c.toString()));
      const code = await new Promise<number | null>((resolve) => {
        const timer = setTimeout(() => child?.kill('SIGKILL'), 150_000);
        child!.on('close', (c) => {
          clearTimeout(timer);
          resolve(c);
        });
      });
      if (code !== 0 || !existsSync(resultsFile)) throw new Error(`groovy exited ${code}:\n${groovyOutput}`);
      for (const b of JSON.parse(readFileSync(resultsFile, 'utf8')) as Build[]) builds[b.name] = b;
      if (process.env.SHIPGATE_TEST_VERBOSE) console.log(groovyOutput);
    }, 180_000);

    afterAll(async () => {
      if (child && child.exitCode === null) child.kill('SIGKILL');
      await new Promise<void>((resolve) => (app.listening ? app.close(() => resolve()) : resolve()));
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    });

    it('one stage per DAG level from `shipgate plan --json`; steps of a level run as real parallel branches in one workspace', () => {
      const b = builds.levels!;
      expect(b.result).toBe('SUCCESS');
      expect(stages(b)).toEqual([
        ['Plan', 'SUCCESS'],
        ['Level 1: lint, unit, build', 'SUCCESS'],
        ['package', 'SUCCESS'],
      ]);
      expect(labels([stage(b, 'Plan')])).toEqual(['shipgate plan --json']);
      const par = all([stage(b, 'Level 1: lint, unit, build')], 'parallel')[0]!;
      expect(par.args).toEqual({ branches: ['lint', 'unit', 'build'], failFast: true });
      const runs = all(par.children!, 'sh');
      expect(runs.map((s) => [s.args.label, s.env?.SHIPGATE_STEP, s.exitCode])).toEqual([
        ['shipgate run --only lint', 'lint', 0],
        ['shipgate run --only unit', 'unit', 0],
        ['shipgate run --only build', 'build', 0],
      ]);
      // really side by side: every branch started before any of them ended
      const lastStart = Math.max(...runs.map((s) => s.at));
      const firstEnd = Math.min(...runs.map((s) => s.endedAt!));
      expect(lastStart).toBeLessThan(firstEnd);
      // every script is one constant; the step reaches the shell through the environment
      expect(new Set(runs.map((s) => s.args.script)).size).toBe(1);
      // the dependent read both matrix instances' outputs, recorded one file per step
      const ws = workspaces.levels!;
      expect(readFileSync(path.join(ws, 'packaged'), 'utf8').trim()).toBe('worker');
      for (const step of ['lint', 'unit', 'build', 'package']) expect(existsSync(path.join(ws, '.shipgate', 'outputs', `${step}.json`))).toBe(true);
    });

    it('a step skipped by its if: skips its dependents, even when an earlier build left outputs for it', () => {
      const b = builds.skipped!;
      expect(b.result).toBe('SUCCESS');
      expect(stages(b)).toEqual([
        ['Plan', 'SUCCESS'],
        ['docs', 'SUCCESS'],
        ['publish', 'SUCCESS'],
      ]);
      expect(labels(b.calls)).toEqual(['shipgate plan --json', 'shipgate run --only docs', 'shipgate report']);
      expect(b.console).toContain('[publish] shipgate: publish skipped: needs docs, which was skipped');
      expect(existsSync(path.join(workspaces.skipped!, 'published'))).toBe(false);
    });

    it('runner: clones the shipgate repository at the ref beside the workspace and runs every step with its bundled CLI', () => {
      const b = builds.runner!;
      expect([b.result, b.error]).toEqual(['SUCCESS', null]);
      expect(labels(b.calls)).toEqual(['shipgate runner acme/shipgate@v0.1.0', 'shipgate plan --json', 'shipgate run --only build', 'shipgate run --only smoke', 'shipgate report']);
      const ws = workspaces.runner!;
      const runnerDir = `${ws}@tmp/shipgate-runner`;
      expect(readFileSync(path.join(path.dirname(ws), 'clones.log'), 'utf8')).toBe(`clone --quiet --depth 1 --branch v0.1.0 https://github.com/acme/shipgate.git ${runnerDir}\n`);
      expect(all(b.calls, 'sh').slice(1).every((c) => c.env?.SHIPGATE_CLI === `node ${runnerDir}/actions/shared/dist/shipgate.mjs`)).toBe(true);
      expect(readFileSync(path.join(ws, 'smoked'), 'utf8')).toBe('built\n');
    });

    it('publishes JUnit per step from its own report directory', () => {
      const junit = all(builds.levels!.calls, 'junit').map((j) => [j.args.testResults, j.found, j.tests, j.failures]);
      expect(junit).toEqual(
        expect.arrayContaining([
          ['./.shipgate/jenkins/lint/junit.xml', true, 1, 0],
          ['./.shipgate/jenkins/unit/junit.xml', true, 1, 0],
          ['./.shipgate/jenkins/build/junit.xml', true, 2, 0],
          ['./.shipgate/jenkins/package/junit.xml', true, 1, 0],
        ]),
      );
      expect(junit).toHaveLength(4);
    });

    it('binds string, usernamePassword, file and aws credentials; shipgate masks them through SHIPGATE_SECRETS', () => {
      const b = builds.levels!;
      const bindings = all(b.calls, 'withCredentials')[0]!.args.bindings;
      expect(bindings).toEqual([
        { type: 'string', credentialsId: 'sonar', variable: 'SONAR_LOGIN' },
        { type: 'usernamePassword', credentialsId: 'registry', usernameVariable: 'REGISTRY_USER', passwordVariable: 'REGISTRY_PASSWORD' },
        { type: 'file', credentialsId: 'kubeconfig', variable: 'KUBECONFIG' },
        { type: 'aws', credentialsId: 'aws', accessKeyVariable: 'AWS_ACCESS_KEY_ID', secretKeyVariable: 'AWS_SECRET_ACCESS_KEY' },
      ]);
      expect(all(b.calls, 'withEnv')[0]!.args.env).toMatchObject({ SHIPGATE_SECRETS: 'SONAR_LOGIN,REGISTRY_USER,REGISTRY_PASSWORD,KUBECONFIG,AWS_ACCESS_KEY_ID,AWS_SECRET_ACCESS_KEY' });
      // SONAR_LOGIN does not look secret by name: only SHIPGATE_SECRETS makes shipgate mask it
      expect(b.console.some((l) => l.includes('sonar login=*** registry=***:*** aws=*** kubeconfig=***'))).toBe(true);
    });

    it('no secret value appears in any console line, script, argument or request of any build', () => {
      expect(Object.keys(builds).sort()).toEqual(scenarios.map((s) => s.name).sort());
      const everything = JSON.stringify(builds);
      for (const value of [apiToken, ...Object.values(secrets)]) expect(everything).not.toContain(value);
      // and the CLI's logs are clean: no crash of a helper process in any build
      expect(Object.values(builds).flatMap((b) => b.console.filter((l) => /EPIPE|Unhandled 'error' event/.test(l)))).toEqual([]);
      // the app did get the token — from the shell, not from Groovy
      expect(appCalls.length).toBeGreaterThan(0);
      expect(appCalls.every((c) => c.authorized)).toBe(true);
    });

    it('fail-fast: the first failure stops the running branches and nothing after the level runs', () => {
      const b = builds.failfast!;
      expect(b.result).toBe('FAILURE');
      expect(b.error).toBe('script returned exit code 1');
      expect(stages(b)).toEqual([
        ['Plan', 'SUCCESS'],
        ['Level 1: broken, slow', 'FAILURE'],
      ]);
      const branches = all(b.calls, 'branch').map((br) => [br.args.name, br.status]);
      expect(branches).toEqual([
        ['broken', 'FAILURE'],
        ['slow', 'ABORTED'],
      ]);
      const slow = all(b.calls, 'sh').find((s) => s.env?.SHIPGATE_STEP === 'slow')!;
      expect(slow.interrupted).toBe(true);
      expect(slow.endedAt! - slow.at).toBeLessThan(15_000); // stopped, not left to its 20 s sleep
      const ws = workspaces.failfast!;
      expect(existsSync(path.join(ws, 'slow-finished'))).toBe(false);
      expect(existsSync(path.join(ws, 'after-ran'))).toBe(false);
      // the failing step's JUnit is published too, with its failure
      const junit = all(b.calls, 'junit').find((j) => j.args.testResults === './.shipgate/jenkins/broken/junit.xml')!;
      expect([junit.found, junit.failures]).toEqual([true, 1]);
    });

    it('report.html: one page merged from every step\'s run, archived, and published with publishHTML when the plugin is there', () => {
      const b = builds.failfast!;
      // after the failed level, outside any stage, so it runs whatever happened
      expect(labels(b.calls).at(-1)).toBe('shipgate report');
      const archived = all(b.calls, 'archiveArtifacts')[0]!;
      expect(archived.args.artifacts).toBe('./.shipgate/jenkins/report.html,./.shipgate/jenkins/*/report.html,./.shipgate/jenkins/*/logs/*.log');
      expect(archived.files).toEqual(expect.arrayContaining(['.shipgate/jenkins/report.html', '.shipgate/jenkins/broken/report.html', '.shipgate/jenkins/broken/logs/broken.log']));
      const published = all(b.calls, 'publishHTML');
      expect(published).toHaveLength(1);
      expect(published[0]!.args).toMatchObject({ reportName: 'shipgate', reportDir: './.shipgate/jenkins', reportFiles: 'report.html', keepAll: true });
      const html = String(published[0]!.html);
      // the failure first, with its log line and a link into the broken step's own log folder
      expect(html.indexOf('id="failures"')).toBeLessThan(html.indexOf('id="waterfall"'));
      expect(html).toContain('compile error in src/app.ts');
      expect(html).toContain('href="broken/logs/broken.log"');
      expect(html.match(/<tr id="row-\d+"/g)?.length).toBeGreaterThanOrEqual(1);
    });

    it('report.html without the HTML Publisher plugin: archived with the build, and the console says how to get the page', () => {
      const b = builds.levels!;
      expect(all(b.calls, 'publishHTML')).toEqual([]);
      const archived = all(b.calls, 'archiveArtifacts')[0]!;
      expect(archived.files).toEqual(expect.arrayContaining(['.shipgate/jenkins/report.html', '.shipgate/jenkins/build/report.html', '.shipgate/jenkins/unit/logs/unit.log']));
      expect(b.console.some((l) => l.includes('install the HTML Publisher plugin'))).toBe(true);
      const merged = readFileSync(path.join(workspaces.levels!, '.shipgate', 'jenkins', 'report.html'), 'utf8');
      // every step of the build on one page: lint, unit, two build instances, package
      expect(merged.match(/<tr id="row-\d+"/g)).toHaveLength(5);
      // the last step of the chain that ended last is on the critical path
      expect(merged).toMatch(/<tr id="row-\d+" class="critical r-success"[^>]*><th scope="row"><span class="mark" aria-hidden="true">◆<\/span><span class="sr">\(critical path\) <\/span>package<\/th>/);
    });

    it('approval (Jenkinsfile.shared): posts to the Slack app, waits in input ShipgateApproval, deploys when the app proceeds', () => {
      const b = builds.approved!;
      expect(b.result).toBe('SUCCESS');
      expect(stages(b).map(([n]) => n)).toEqual(['Plan', 'Level 1: version, test', 'Approval', 'Deploy']);
      const approval = stage(b, 'Approval');
      expect(labels([approval])).toEqual(['ask the Slack app for approval']);
      const timeout = all([approval], 'timeout')[0]!;
      expect(timeout.args).toEqual({ time: 1800, unit: 'SECONDS' });
      const input = all(timeout.children!, 'input')[0]!;
      expect(input).toMatchObject({ args: { id: 'ShipgateApproval', message: 'Deploy orders 1.4.2 to production?', ok: 'Deploy' }, answer: 'proceed', answeredBy: 'shipgate-slack' });
      const [request] = posted('approved', 'approvals');
      expect(request?.body).toEqual({
        service: 'orders',
        environment: 'production',
        version: '1.4.2',
        summary: 'release to production',
        expiresInSeconds: 1800,
        // BUILD_TAG and the build's start time: a job made again (numbers restart) gets new keys
        idempotencyKey: expect.stringMatching(/^jenkins-approved-1:1\d{12}:approval$/),
        backend: { kind: 'jenkins', buildUrl: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/job\/approved\/1\/$/), inputId: 'ShipgateApproval' },
      });
      // the app answered over Jenkins' REST API with a crumb (a 404 only while the input was not yet waiting)
      expect(request?.jenkins?.crumb).toBe(200);
      expect(request?.jenkins?.answers.at(-1)).toBe(200);
      expect(b.http.filter((r) => r.method === 'POST').every((r) => r.crumb && r.user === 'shipgate-slack')).toBe(true);
      expect(readFileSync(path.join(workspaces.approved!, 'deployed'), 'utf8').trim()).toBe('1.4.2');
      // the rollback step only runs in a Rollback stage, never as a level
      expect(labels(b.calls)).not.toContain('shipgate run --only rollback');
    });

    it('records the deployment in the Slack app after the deploy, with the rollback job', () => {
      const [record] = posted('approved', 'deployments');
      expect(record?.body).toEqual({
        service: 'orders',
        environment: 'production',
        version: '1.4.2',
        outcome: 'succeeded',
        url: expect.stringMatching(/\/job\/approved\/1\/$/),
        rollback: { kind: 'jenkins', jobUrl: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/job\/orders-rollback\/$/) },
      });
    });

    it('approval rejected in Slack: the build ends ABORTED and nothing is deployed', () => {
      const b = builds.rejected!;
      expect(b.result).toBe('ABORTED');
      expect(stages(b)).toEqual([
        ['Plan', 'SUCCESS'],
        ['Level 1: version, test', 'SUCCESS'],
        ['Approval', 'ABORTED'],
      ]);
      expect(all(b.calls, 'input')[0]).toMatchObject({ answer: 'abort', answeredBy: 'shipgate-slack' });
      expect(all([stage(b, 'Approval')], 'currentBuild.result').map((c) => c.args.value)).toEqual(['ABORTED']);
      expect(b.console).toContain('[Approval] shipgate: the approval was rejected (Rejected by shipgate-slack) — nothing was deployed');
      expect(existsSync(path.join(workspaces.rejected!, 'deployed'))).toBe(false);
      expect(posted('rejected', 'deployments')).toEqual([]);
    });

    it('approval timeout: the input is stopped by timeout, the build ends ABORTED and nothing is deployed', () => {
      const b = builds.timeout!;
      expect(b.result).toBe('ABORTED');
      expect(stage(b, 'Approval').status).toBe('ABORTED');
      expect(stages(b).map(([n]) => n)).not.toContain('Deploy');
      const timeout = all(b.calls, 'timeout')[0]!;
      expect(timeout).toMatchObject({ args: { time: 2, unit: 'SECONDS' }, expired: true });
      expect(all(b.calls, 'input')[0]!.answer).toBe('interrupted');
      expect(all([stage(b, 'Approval')], 'currentBuild.result').map((c) => c.args.value)).toEqual(['ABORTED']);
      expect(posted('timeout', 'approvals')[0]?.body).toMatchObject({ version: '9.9.9', expiresInSeconds: 2 });
      expect(b.console).toContain('[Approval] shipgate: the approval timed out after 2s — nothing was deployed');
      expect(existsSync(path.join(workspaces.timeout!, 'deployed'))).toBe(false);
      expect(posted('timeout', 'deployments')).toEqual([]);
    });

    it('a failed deploy runs the Rollback stage (the rollback step, told why through the environment) and records the failure', () => {
      const b = builds.brokendeploy!;
      expect(b.result).toBe('FAILURE');
      expect(stages(b)).toEqual([
        ['Plan', 'SUCCESS'],
        ['Deploy', 'FAILURE'],
        ['Rollback', 'SUCCESS'],
      ]);
      const rollback = all([stage(b, 'Rollback')], 'sh')[0]!;
      expect(rollback.args.label).toBe('shipgate step rollback');
      expect(rollback.env).toMatchObject({ ENVIRONMENT: 'staging', REASON: 'deploy failed: deploy', FAILED_VERSION: '2.0.0', SHIPGATE_ROLLBACK_STEP: 'rollback' });
      expect(readFileSync(path.join(workspaces.brokendeploy!, 'rolled-back'), 'utf8')).toBe('staging|deploy failed: deploy|2.0.0');
      const junit = all(b.calls, 'junit').find((j) => j.args.testResults === './.shipgate/jenkins/deploy/junit.xml')!;
      expect([junit.found, junit.failures]).toEqual([true, 1]);
      expect(posted('brokendeploy', 'deployments').map((c) => c.body)).toEqual([
        { service: 'payments', environment: 'staging', version: '2.0.0', outcome: 'failed', url: expect.stringMatching(/\/job\/brokendeploy\/1\/$/) },
      ]);
    });

    it('a rollback command that fails marks the Rollback stage failed and says to check by hand', () => {
      const b = builds.rollbackfails!;
      expect(b.result).toBe('FAILURE');
      expect(stages(b).slice(-2)).toEqual([
        ['Deploy', 'FAILURE'],
        ['Rollback', 'FAILURE'],
      ]);
      const rollback = all([stage(b, 'Rollback')], 'sh')[0]!;
      expect(rollback).toMatchObject({ args: { label: 'rollback command' }, exitCode: 4 });
      expect(rollback.output).toContain('undoing 2.0.1 in production');
      expect(b.console).toContain('[Rollback] shipgate: the rollback failed — check the environment by hand');
      expect(posted('rollbackfails', 'deployments').map((c) => c.body.outcome)).toEqual(['failed']);
    });

    it('a mistyped option stops the build before it takes an agent, with a did-you-mean and the allowed list', () => {
      const b = builds.typo!;
      expect(b.result).toBe('FAILURE');
      expect(b.calls.map((c) => c.step)).toEqual(['error']);
      const lines = b.error!.split('\n');
      expect(lines).toContain('shipgatePipeline: unknown option "fiel" — did you mean "file"?');
      expect(lines).toContain('shipgatePipeline: unknown option "failfast" — did you mean "failFast"?');
      expect(lines).toContain('  allowed: file, shipgate, runner, label, checkout, failFast, maxParallel, env, credentials, deploy, rollback, rollbackCommand, approval, environment, service, version, versionFrom, appUrl, appTokenCredentialsId, rollbackJobUrl');
      expect(lines).toContain('shipgatePipeline: option maxParallel must be a whole number, got "two" (a string)');
      expect(lines).toContain('shipgatePipeline: unknown approval option "timout" — did you mean "timeout"?');
      expect(lines).toContain('shipgatePipeline: credentials[0].type "strng" is not a binding type — did you mean "string"?');
    });

    it('a step name that is not in shipgate.yml stops the build after the plan, naming the steps', () => {
      const b = builds.steptypo!;
      expect(b.result).toBe('FAILURE');
      expect(stages(b)).toEqual([['Plan', 'SUCCESS']]);
      expect(b.error).toBe(
        [
          'shipgatePipeline: deploy: "deplyo" is not a step of orders — did you mean "deploy"?',
          '  steps: version, test, deploy, rollback',
          'shipgatePipeline: rollback: "rolback" is not a step of orders — did you mean "rollback"?',
          '  steps: version, test, deploy, rollback',
        ].join('\n'),
      );
    });

    it('pure parts: durations, did-you-mean, stage layout, environment and defaults', () => {
      const line = builds.pure!.console.find((l) => l.startsWith('PURE '));
      expect(builds.pure!.result).toBe('SUCCESS');
      const out = JSON.parse(line!.slice('PURE '.length));
      expect(out.durations).toEqual([90, 1800, 5400, 7200, 45, null, null, null, null, null]);
      expect(out.didYouMean).toEqual([' — did you mean "file"?', '', ' — did you mean "approval"?']);
      // deploy steps by default: deploy-* and codedeploy / codepipeline steps; a long level gets a short name
      expect(out.layout).toEqual({
        stages: [
          { name: 'Level 1 (6 steps)', steps: ['lint', 'unit', 'build', 'typecheck', 'integration', 'e2e-tests'], deploy: false },
          { name: 'Deploy: deploy-eu, package, release', steps: ['deploy-eu', 'package', 'release'], deploy: true },
          { name: 'rollback', steps: ['rollback'], deploy: false },
        ],
        problems: [],
        needs: { lint: [], unit: [], build: [], typecheck: [], integration: [], 'e2e-tests': [], 'deploy-eu': [], package: [], release: [], rollback: [] },
      });
      // the rollback step leaves the levels
      expect(out.layoutExplicit.stages.map((s: { name: string }) => s.name)).toEqual(['Level 1 (6 steps)', 'Deploy: deploy-eu, package, release']);
      expect(out.noDeploy).toEqual(["approval: no deploy step to wait before\n  hint: name them with deploy: ['<step>'] (steps: a)"]);
      expect(out.baseEnv).toEqual(['SHIPGATE_CLI=shipgate', 'SHIPGATE_FILE=shipgate.yml', 'SHIPGATE_RUN_FLAGS=-j 2', 'SHIPGATE_SECRETS=EXISTING,AWS_ACCESS_KEY_ID,AWS_SECRET_ACCESS_KEY', 'FOO=bar']);
      // the build's report page goes to the Slack app with the deployment, when it is an http(s) URL
      expect(out.reportUrls).toEqual(['https://ci.example.com/job/orders/42/shipgate/', null, null]);
      expect(out.defaults).toEqual({ stateRoot: 'services/api', shipgate: 'npx shipgate', approval: { timeout: '1h', timeoutSeconds: 3600 }, defaultVersion: '0123456789ab', environment: 'production' });
    });

    it('rollback job: VERSION / ENVIRONMENT / REASON reach the step only through the environment, and it is recorded', () => {
      const b = builds.rollbackjob!;
      expect(b.result).toBe('SUCCESS');
      const props = all(b.calls, 'properties')[0]!.args.properties as { parameters: Record<string, unknown>[] }[];
      expect(props[0]!.parameters.map((p) => [p.$symbol, p.name])).toEqual([
        ['string', 'VERSION'],
        ['choice', 'ENVIRONMENT'],
        ['string', 'REASON'],
      ]);
      expect(props[0]!.parameters[1]!.choices).toEqual(['staging', 'production']);
      expect(stages(b)).toEqual([['Rollback', 'SUCCESS']]);
      expect(labels(b.calls)).toEqual(['shipgate plan --json', 'shipgate step rollback', 'record the deployment (rolled-back) in the Slack app']);
      const ws = workspaces.rollbackjob!;
      expect(readFileSync(path.join(ws, 'rolled-back'), 'utf8')).toBe(`1.4.1|production|${injection}`);
      expect(existsSync(path.join(ws, 'pwned'))).toBe(false);
      expect(existsSync(path.join(ws, 'pwned2'))).toBe(false);
      for (const s of all(b.calls, 'sh')) expect(`${s.args.script}`).not.toMatch(/1\.4\.1|error rate/);
      expect(all(b.calls, 'currentBuild.description').map((c) => c.args.value)).toEqual(['production → 1.4.1']);
      expect(b.description).toBe('production → 1.4.1');
      expect(appCalls.filter((c) => c.path === 'POST /api/deployments' && c.body.outcome === 'rolled-back').map((c) => c.body)).toEqual([
        { service: 'orders', environment: 'production', version: '1.4.1', outcome: 'rolled-back', url: expect.stringMatching(/\/job\/rollbackjob\/1\/$/) },
      ]);
    });

    it('rollback job: an ENVIRONMENT outside the list stops it with a did-you-mean, before any agent', () => {
      const b = builds.rollbackbadenv!;
      expect(b.result).toBe('FAILURE');
      expect(b.calls.map((c) => c.step)).toEqual(['properties', 'error']);
      expect(b.error).toBe('shipgateRollback: parameter ENVIRONMENT "prodution" is not one of the environments — did you mean "production"?\n  allowed: staging, production');
    });
  });
}
