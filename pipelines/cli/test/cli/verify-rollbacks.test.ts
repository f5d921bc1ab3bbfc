// The rollbacks the CLI hands the verify step, over the wire: the real AWS SDK against the loopback
// AWS stand-in. A CodePipeline stage rollback that succeeds is a rollback; a CodeDeploy rollback
// deployment that fails is reported as failed (not as rolled back), and does not stop the others.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { runRollbacks } from '../../../verify/src/rollback.js';
import { verifyRollbacks } from '../../src/cli/steps.js';
import { fakeAwsEnv, startAwsStandIn, type AwsStandIn } from '../../../test/support/aws-stand-in.js';

let aws: AwsStandIn;
beforeAll(async () => {
  aws = await startAwsStandIn();
});
afterAll(async () => {
  await aws?.close();
});

describe("the CLI's verify rollbacks", () => {
  it('rolls the CodePipeline stage back to the previous succeeded execution, and reports a failed CodeDeploy rollback as failed', async () => {
    const t = (s: number) => 1_764_000_000 + s;
    aws.handlers.set('GetPipelineState', () => ({ stageStates: [{ stageName: 'Deploy', latestExecution: { pipelineExecutionId: 'e-3', status: 'Succeeded' } }] }));
    aws.handlers.set('ListPipelineExecutions', () => ({
      pipelineExecutionSummaries: [
        { pipelineExecutionId: 'e-3', status: 'Succeeded', startTime: t(300) },
        { pipelineExecutionId: 'e-2', status: 'Succeeded', startTime: t(200) },
        { pipelineExecutionId: 'e-1', status: 'Failed', startTime: t(100) },
      ],
    }));
    aws.handlers.set('RollbackStage', () => ({ pipelineExecutionId: 'e-BACK' }));
    aws.handlers.set('GetPipelineExecution', () => ({ pipelineExecution: { pipelineExecutionId: 'e-BACK', status: 'Succeeded' } }));
    aws.handlers.set('ListActionExecutions', () => ({ actionExecutionDetails: [] }));
    const s3 = (key: string) => ({ revisionType: 'S3', s3Location: { bucket: 'releases', key, bundleType: 'zip' } });
    aws.handlers.set('GetDeploymentGroup', () => ({ deploymentGroupInfo: { targetRevision: s3('b.zip') } }));
    aws.handlers.set('ListDeployments', () => ({ deployments: ['d-2', 'd-1'] }));
    aws.handlers.set('BatchGetDeployments', () => ({ deploymentsInfo: [{ deploymentId: 'd-2', status: 'Succeeded', completeTime: t(2), revision: s3('b.zip') }, { deploymentId: 'd-1', status: 'Succeeded', completeTime: t(1), revision: s3('a.zip') }] }));
    aws.handlers.set('CreateDeployment', () => ({ deploymentId: 'd-BACK' }));
    aws.handlers.set('GetDeployment', () => ({ deploymentInfo: { deploymentId: 'd-BACK', status: 'Failed', computePlatform: 'Server', errorInformation: { code: 'HEALTH_CONSTRAINTS', message: 'too many failed' } } }));
    aws.handlers.set('ListDeploymentTargets', () => ({ targetIds: [] }));

    const onFailure = { codepipeline: { pipeline: 'orders-release', stage: 'Deploy', endpoint: aws.url }, codedeploy: { application: 'orders', 'deployment-group': 'prod', endpoint: aws.url } };
    const lines: string[] = [];
    const outcomes = await runRollbacks(onFailure, verifyRollbacks, { env: fakeAwsEnv, signal: new AbortController().signal, log: (l) => lines.push(l) }, 'prod');

    expect(outcomes.map((o) => [o.kind, o.ok])).toEqual([
      ['codepipeline', true],
      ['codedeploy', false],
    ]);
    expect(outcomes[0]!.message).toBe('rolled orders-release/Deploy back from e-3 to e-2 (execution e-BACK)');
    expect(outcomes[1]!.message).toMatch(/^rollback of orders\/prod to s3:\/\/releases\/a\.zip failed \(deployment d-BACK\)/);
    expect(aws.calls.find((c) => c.target.endsWith('.RollbackStage'))!.input).toEqual({ pipelineName: 'orders-release', stageName: 'Deploy', targetPipelineExecutionId: 'e-2' });
  });
});
