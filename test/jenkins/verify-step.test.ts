// The Jenkins library's shipgateVerify step, run by Groovy 2.4 against the pipeline-DSL stand-in
// (test/jenkins/standin/), whose `sh` really runs the built shipgate CLI: `shipgate verify` judges
// two services scraped by a real Prometheus (Debian's, on 127.0.0.1) — one serving a good release,
// one a bad one. A good verdict returns the result to the Jenkinsfile; a bad one fails the build
// with the failing check; an option typo fails before anything runs, with a did-you-mean.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { requirePrometheus, startPrometheus, type StartedPrometheus } from '../../pipelines/test/support/prometheus.js';
import { startReleaseService, type ReleaseService } from '../../pipelines/test/support/release-service.js';

const root = path.resolve(import.meta.dirname, '../..');
const standin = path.join(root, 'test/jenkins/standin');
const cliMain = path.join(root, 'pipelines/cli/dist/cli/main.js');
const onPath = (command: string) => (process.env.PATH ?? '').split(path.delimiter).map((d) => path.join(d, command)).find((c) => existsSync(c));
const groovy = onPath('groovy');
const java = process.env.JAVA_HOME ?? (onPath('java') ? path.dirname(path.dirname(realpathSync(onPath('java')!))) : undefined);
const missing = !groovy || !java ? 'groovy and a Java runtime are needed (apt-get install groovy)' : !existsSync(cliMain) ? 'the CLI is not built (npm run build)' : undefined;
if (missing && process.env.CI === 'true') throw new Error(`shipgateVerify tests cannot run in CI: ${missing}`);
const enabled = !missing && requirePrometheus('shipgateVerify (Jenkins) against Prometheus');
if (missing) console.warn(`test/jenkins/verify-step: skipped — ${missing}`);
const suite = enabled ? describe : describe.skip;

interface Build {
  name: string;
  result: string;
  error: string | null;
  console: string[];
  calls: { step: string; args: Record<string, unknown>; children?: Build['calls']; env?: Record<string, string>; exitCode?: number }[];
}

const library = "@Library('shipgate') _\n";
const errorRate = 'sum(rate(demo_http_requests_total{code="500",version="{{ version }}"}[4s])) / sum(rate(demo_http_requests_total{version="{{ version }}"}[4s]))';

suite('shipgateVerify (Jenkins shared library)', () => {
  const services: ReleaseService[] = [];
  let prometheus: StartedPrometheus;
  let work: string;
  const builds: Record<string, Build> = {};

  beforeAll(async () => {
    services.push(await startReleaseService({ version: '3.0.0', errorRatio: 0, latency: 0.05 }), await startReleaseService({ version: '3.1.0', errorRatio: 0.5, latency: 0.05 }));
    prometheus = await startPrometheus({ targets: services.map((s) => s.hostPort) });
    await prometheus.scraped();
    work = mkdtempSync(path.join(os.tmpdir(), 'sg-jenkins-verify-'));
    const verifyYml = `prometheus: ${prometheus.url}\ninterval: 1s\ncount: 2\ninitial-delay: 3s\nchecks:\n  - name: error-rate\n    query: '${errorRate}'\n    max: 0.05\n`;
    const scenarios = [
      { name: 'good', jenkinsfile: `${library}node {\n  Map v = shipgateVerify(inputs: 'verify.yml', version: '3.0.0', environment: 'production')\n  echo("VERDICT ${'$'}{groovy.json.JsonOutput.toJson(v)}")\n}` },
      { name: 'bad', jenkinsfile: `${library}node {\n  shipgateVerify(inputs: 'verify.yml', version: '3.1.0', environment: 'production')\n  echo('PROMOTED')\n}` },
      { name: 'typo', jenkinsfile: `${library}node {\n  shipgateVerify(input: 'verify.yml', version: '3.0.0')\n}` },
    ].map((s) => {
      const workspace = mkdtempSync(path.join(work, `${s.name}-`));
      writeFileSync(path.join(workspace, 'verify.yml'), verifyYml);
      return { ...s, workspace, params: {}, plugins: [], credentials: {}, env: { SHIPGATE_CLI: `${process.execPath} ${cliMain}` } };
    });
    const scenariosFile = path.join(work, 'scenarios.json');
    const resultsFile = path.join(work, 'results.json');
    writeFileSync(scenariosFile, JSON.stringify({ library: root, parallel: 3, scenarios }));
    const env = { PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH}`, HOME: process.env.HOME, TMPDIR: os.tmpdir(), LANG: 'C.UTF-8', JAVA_HOME: java };
    const child = spawn(groovy!, ['-cp', `${path.join(standin, 'classes')}${path.delimiter}${standin}`, path.join(standin, 'run.groovy'), scenariosFile, resultsFile], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 100_000);
      child.on('close', (c) => (clearTimeout(timer), resolve(c)));
    });
    if (code !== 0 || !existsSync(resultsFile)) throw new Error(`groovy exited ${code}:\n${output}`);
    for (const b of JSON.parse(readFileSync(resultsFile, 'utf8')) as Build[]) builds[b.name] = b;
  }, 150_000);

  afterAll(async () => {
    await prometheus?.stop();
    for (const s of services) await s.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const shCalls = (calls: Build['calls']): Build['calls'] => calls.flatMap((c) => [...(c.step === 'sh' ? [c] : []), ...shCalls(c.children ?? [])]);

  it('passes a good release in a Verify stage and returns the verdict to the Jenkinsfile', () => {
    const b = builds.good!;
    expect([b.result, b.error]).toEqual(['SUCCESS', null]);
    const verdict = b.console.find((l) => l.startsWith('VERDICT '));
    expect(JSON.parse(verdict!.slice('VERDICT '.length))).toEqual({ verdict: 'passed', failingCheck: null, evaluations: 2, rolledBack: false });
    const [sh] = shCalls(b.calls);
    expect(sh!.args.label).toBe('shipgate verify');
    // values reach the shell through the environment only: the script is the library's constant
    expect(sh!.args.script).not.toContain('3.0.0');
    expect(sh!.env).toMatchObject({ SHIPGATE_VERIFY_INPUTS: 'verify.yml', SHIPGATE_VERIFY_VERSION: '3.0.0', SHIPGATE_VERIFY_ENVIRONMENT: 'production' });
  });

  it('fails the build on a bad release with the failing check, and nothing after it runs', () => {
    const b = builds.bad!;
    expect(b.result).toBe('FAILURE');
    expect(b.error).toMatch(/^shipgateVerify: verification failed: check "error-rate": 0\.\d+ > 0\.05 \(evaluation 1\); nothing rolled back \(no on-failure\)$/);
    expect(b.console).not.toContain('PROMOTED');
  });

  it('refuses an unknown option before anything runs, with a did-you-mean', () => {
    const b = builds.typo!;
    expect(b.result).toBe('FAILURE');
    expect(b.error).toContain('unknown option "input"');
    expect(b.error).toContain('did you mean "inputs"');
    expect(shCalls(b.calls)).toEqual([]);
  });
});
