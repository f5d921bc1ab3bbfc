// The real SDK client against a loopback server speaking AWS's JSON 1.1 protocol: proves that the
// endpoint option is used, that a throttled answer as AWS sends it is retried, and that an abort
// reaches the HTTP request.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import http from 'node:http';
import { CodeDeployClient, GetDeploymentCommand } from '@aws-sdk/client-codedeploy';
import { awsCall, awsClientConfig } from '../../src/sdk/index.js';
import { ShipgateError } from '../../../protocol/src/errors.js';
import { closeServer, listenOnLoopback } from '../../../test/helpers.js';

type Reply = { status: number; type?: string; body: unknown; delayMs?: number };
const replies: Reply[] = [];
const seen: { target: string | undefined; body: string }[] = [];
const server = http.createServer((req, res) => {
  let body = '';
  req.on('data', (c: Buffer) => (body += c.toString()));
  req.on('end', () => {
    seen.push({ target: req.headers['x-amz-target'] as string | undefined, body });
    const reply = replies.shift() ?? { status: 500, type: 'InternalFailure', body: { message: 'no reply queued' } };
    const send = () => {
      if (res.destroyed) return;
      res.writeHead(reply.status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': `req-${seen.length}`, ...(reply.type ? { 'x-amzn-errortype': reply.type } : {}) });
      res.end(JSON.stringify(reply.type ? { __type: reply.type, ...(reply.body as object) } : reply.body));
    };
    if (reply.delayMs) setTimeout(send, reply.delayMs).unref();
    else send();
  });
});
let endpoint = '';

beforeAll(async () => {
  endpoint = await listenOnLoopback(server);
});
afterAll(async () => {
  await closeServer(server);
});

const client = () =>
  new CodeDeployClient({ ...awsClientConfig({ region: 'eu-west-1', endpoint }, {}), credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' } });
const op = { action: 'codedeploy:GetDeployment', resource: 'arn:aws:codedeploy:eu-west-1:111122223333:deploymentgroup:orders/prod' };

describe('awsCall over the wire', () => {
  it('retries a ThrottlingException as AWS sends it, then parses the deployment', async () => {
    seen.length = 0;
    replies.push({ status: 400, type: 'ThrottlingException', body: { message: 'Rate exceeded' } });
    replies.push({ status: 200, body: { deploymentInfo: { deploymentId: 'd-ABC', status: 'InProgress', deploymentOverview: { Pending: 1, InProgress: 1, Succeeded: 0, Failed: 0, Skipped: 0, Ready: 0 } } } });
    const c = client();
    const out = await awsCall((o) => c.send(new GetDeploymentCommand({ deploymentId: 'd-ABC' }), o), { ...op, retry: { attempts: 3, initialDelayMs: 1, maxDelayMs: 2 } });
    expect(out.deploymentInfo?.deploymentOverview?.InProgress).toBe(1);
    expect(seen.map((s) => s.target)).toEqual(['CodeDeploy_20141006.GetDeployment', 'CodeDeploy_20141006.GetDeployment']);
    expect(JSON.parse(seen[0]!.body)).toEqual({ deploymentId: 'd-ABC' });
  });

  it('turns an AccessDeniedException into a missing-permission error', async () => {
    replies.push({ status: 400, type: 'AccessDeniedException', body: { message: 'User: arn:aws:iam::111122223333:user/ci is not authorized to perform: codedeploy:GetDeployment on resource: arn:aws:codedeploy:eu-west-1:111122223333:deploymentgroup:orders/prod' } });
    const c = client();
    const error = (await awsCall((o) => c.send(new GetDeploymentCommand({ deploymentId: 'd-ABC' }), o), op).catch((e: unknown) => e)) as ShipgateError;
    expect(error).toBeInstanceOf(ShipgateError);
    expect(error.message).toBe('missing permission: codedeploy:GetDeployment on arn:aws:codedeploy:eu-west-1:111122223333:deploymentgroup:orders/prod');
  });

  it('aborts the HTTP request when the signal fires', async () => {
    replies.push({ status: 200, body: {}, delayMs: 5_000 });
    const c = client();
    const controller = new AbortController();
    const started = performance.now();
    setTimeout(() => controller.abort(new Error('cancelled')), 50);
    await expect(awsCall((o) => c.send(new GetDeploymentCommand({ deploymentId: 'd-ABC' }), o), { ...op, signal: controller.signal })).rejects.toThrow('cancelled');
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});
