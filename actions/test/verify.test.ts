// actions/verify from the bundle against a real Prometheus (Debian's, on 127.0.0.1) scraping a
// test service: a bad release fails the job with the failing check, rolls back through the
// CodeDeploy stand-in, writes the evaluation table to the job summary and masks the token.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { fakeAwsEnv, startAwsStandIn, type AwsStandIn } from '../../pipelines/test/support/aws-stand-in.js';
import { requirePrometheus, startPrometheus, type StartedPrometheus } from '../../pipelines/test/support/prometheus.js';
import { startReleaseService, type ReleaseService } from '../../pipelines/test/support/release-service.js';
import { bundledJob, removeJob, runBundledAction, type BundledJob } from './runner.js';

const suite = requirePrometheus('actions/verify against Prometheus') ? describe : describe.skip;

suite('actions/verify', () => {
  let job: BundledJob;
  let aws: AwsStandIn;
  let service: ReleaseService;
  let prometheus: StartedPrometheus;

  beforeAll(async () => {
    job = bundledJob();
    aws = await startAwsStandIn();
    service = await startReleaseService({ version: '2.0.0', errorRatio: 0, latency: 0.05 });
    prometheus = await startPrometheus({ targets: [service.hostPort] });
    await prometheus.scraped();
  }, 60_000);
  afterAll(async () => {
    removeJob(job);
    await aws?.close();
    await prometheus?.stop();
    await service?.stop();
  });

  it('fails a bad release with the failing check, rolls it back through CodeDeploy and writes the table to the summary', async () => {
    const s3 = (key: string) => ({ revisionType: 'S3', s3Location: { bucket: 'releases', key, bundleType: 'zip' } });
    aws.handlers.set('GetDeploymentGroup', () => ({ deploymentGroupInfo: { targetRevision: s3('orders-2.1.0.zip') } }));
    aws.handlers.set('ListDeployments', () => ({ deployments: ['d-21', 'd-20'] }));
    aws.handlers.set('BatchGetDeployments', () => ({ deploymentsInfo: [{ deploymentId: 'd-21', status: 'Succeeded', completeTime: 1_764_000_300, revision: s3('orders-2.1.0.zip') }, { deploymentId: 'd-20', status: 'Succeeded', completeTime: 1_764_000_200, revision: s3('orders-2.0.0.zip') }] }));
    aws.handlers.set('CreateDeployment', () => ({ deploymentId: 'd-ACTIONBACK' }));
    aws.handlers.set('GetDeployment', () => ({ deploymentInfo: { deploymentId: 'd-ACTIONBACK', status: 'Succeeded', computePlatform: 'Server' } }));
    service.deploy({ version: '2.1.0', errorRatio: 0.5, latency: 0.05 });
    const checks = [{ name: 'error-rate', query: 'sum(rate(demo_http_requests_total{code="500",version="{{ version }}"}[4s])) / sum(rate(demo_http_requests_total{version="{{ version }}"}[4s]))', max: 0.05 }];
    const run = await runBundledAction('verify', {
      ...job,
      inputs: {
        prometheus: prometheus.url,
        checks: JSON.stringify(checks),
        version: '2.1.0',
        environment: 'production',
        interval: '1s',
        count: '5',
        'initial-delay': '4s',
        'on-failure': JSON.stringify({ codedeploy: { application: 'orders', 'deployment-group': 'production', endpoint: aws.url } }),
        'prometheus-token': 'prom-secret-token-123',
      },
      env: fakeAwsEnv,
    });
    expect(run.code).toBe(1);
    expect(run.outputs).toEqual({ verdict: 'failed', evaluations: '1', 'failing-check': 'error-rate', 'rolled-back': 'true' });
    expect(run.errors).toEqual([{ title: 'shipgate verify: verify.failed', message: expect.stringMatching(/^verification failed: check "error-rate": 0\.\d+ > 0\.05 \(evaluation 1\); codedeploy rolled back/) }]);
    expect(aws.calls.filter((c) => c.target.endsWith('.CreateDeployment')).map((c) => c.input.revision)).toEqual([s3('orders-2.0.0.zip')]);
    expect(run.summary).toMatch(/\| 1 \| [\d.]+s \| error-rate \| 0\.\d+ \| ≤ 0\.05 \| FAIL \(0\.\d+ > 0\.05\) \|/);
    expect(run.masks).toContain('prom-secret-token-123');
    expect(`${run.stdout}${run.stderr}${run.summary}`.replaceAll('::add-mask::prom-secret-token-123', '')).not.toContain('prom-secret-token-123');
  }, 60_000);
});
