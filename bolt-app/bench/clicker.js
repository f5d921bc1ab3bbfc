// The benchmark's far side, in a worker thread with its own event loop (as Slack is another
// machine): a stand-in for Slack's Web API, and the load generator. The generator opens its
// connections first (Slack reuses keep-alive connections), then fires every click at once and
// reports each one's time to the HTTP response.
import { createServer, request, Agent } from 'node:http';
import { parentPort } from 'node:worker_threads';

let ts = 1_700_000_000;
const slack = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    const method = (req.url ?? '').replace(/^\/api\//, '');
    const body = method === 'auth.test' ? { ok: true, user_id: 'U0BOT', bot_id: 'B0BOT', team_id: 'T0' } : method === 'chat.postMessage' ? { ok: true, channel: 'C0PROD0001', ts: `${++ts}.0001` } : { ok: true };
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  });
});
await new Promise((resolve) => slack.listen(0, '127.0.0.1', resolve));
parentPort.postMessage({ slackUrl: `http://127.0.0.1:${slack.address().port}` });

function post(agent, url, text, headers) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = request(url, { method: 'POST', agent, headers: { ...headers, 'content-length': Buffer.byteLength(text) } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve(performance.now() - started) : reject(new Error(`click answered ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(text);
  });
}

parentPort.on('message', async (message) => {
  if (message === 'stop') {
    slack.close();
    slack.closeAllConnections();
    parentPort.close();
    return;
  }
  const { url, requests } = message;
  const agent = new Agent({ keepAlive: true, maxSockets: requests.length });
  // warm the connections with unsigned requests (answered 401 without touching the app's state)
  await Promise.all(requests.map(() => post(agent, url, 'warm=1', { 'content-type': 'application/x-www-form-urlencoded' }).catch(() => undefined)));
  const latencies = await Promise.all(requests.map(({ text, headers }) => post(agent, url, text, headers)));
  agent.destroy();
  parentPort.postMessage({ latencies });
});
