// The benchmark's load generator, in a worker thread (its own event loop, as Slack is another
// machine): opens the connections first, as Slack's keep-alive connections are, then fires every
// request at once and reports each one's time to the HTTP response.
import { request, Agent } from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';

const { url, requests } = workerData;
const agent = new Agent({ keepAlive: true, maxSockets: requests.length });

function post(text, headers) {
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

// warm the connections with unsigned requests (answered 401 without touching the app's state)
await Promise.all(requests.map(() => post('warm=1', { 'content-type': 'application/x-www-form-urlencoded' }).catch(() => undefined)));
const latencies = await Promise.all(requests.map(({ text, headers }) => post(text, headers)));
agent.destroy();
parentPort.postMessage(latencies);
