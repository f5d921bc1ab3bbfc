// A loopback endpoint speaking the AWS JSON 1.1 protocol (POST /, X-Amz-Target: <Service>.<Op>,
// application/x-amz-json-1.1, errors as { __type, message } with x-amzn-errortype), answering
// from per-operation handlers. The bundled SDK reaches it through AWS_ENDPOINT_URL_<SERVICE> or an
// endpoint input, signing with fake credentials from the environment.
import http from 'node:http';
import { closeServer, listenOnLoopback } from '../helpers.js';

export type AwsAnswer = { status?: number; error?: string; body: Record<string, unknown> };
export type AwsHandler = (input: Record<string, unknown>) => AwsAnswer | Record<string, unknown>;

export interface AwsStandIn {
  url: string;
  /** Operation name (without the service prefix) → handler. */
  handlers: Map<string, AwsHandler>;
  calls: { target: string; input: Record<string, unknown>; authorization: string | undefined }[];
  close(): Promise<void>;
}

export async function startAwsStandIn(): Promise<AwsStandIn> {
  const handlers = new Map<string, AwsHandler>();
  const calls: AwsStandIn['calls'] = [];
  const server = http.createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const input = text ? (JSON.parse(text) as Record<string, unknown>) : {};
      calls.push({ target, input, authorization: req.headers.authorization });
      const handler = handlers.get(target.split('.').pop() ?? '');
      const raw = handler ? handler(input) : { status: 400, error: 'UnknownOperationException', body: { message: `no stand-in for ${target}` } };
      const answer: AwsAnswer = 'body' in raw && typeof raw.body === 'object' ? (raw as AwsAnswer) : { body: raw };
      const headers: Record<string, string> = { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': `req-${calls.length}` };
      if (answer.error) headers['x-amzn-errortype'] = answer.error;
      res.writeHead(answer.status ?? (answer.error ? 400 : 200), headers).end(JSON.stringify(answer.error ? { __type: answer.error, ...answer.body } : answer.body));
    });
  });
  return { url: await listenOnLoopback(server), handlers, calls, close: () => closeServer(server) };
}

/** Fake credentials and region for the SDK: nothing reads ~/.aws or the instance metadata service. */
export const fakeAwsEnv = {
  AWS_ACCESS_KEY_ID: 'AKIDFAKEKEYEXAMPLE',
  AWS_SECRET_ACCESS_KEY: 'fake-secret-access-key-for-tests',
  AWS_SESSION_TOKEN: 'fake-session-token-for-tests',
  AWS_REGION: 'eu-west-1',
  AWS_EC2_METADATA_DISABLED: 'true',
};
