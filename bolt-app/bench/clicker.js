// The benchmark's far side, in a worker thread with its own event loop (as Slack is another
// machine): a stand-in for Slack's Web API, and the load generator. The generator opens its
// connections first (Slack reuses keep-alive connections), then fires every click at once and
// reports each one's time to the first byte of the HTTP response.
import { createServer } from 'node:http';
import { connect as netConnect } from 'node:net';
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

// Each click is written as raw bytes on its own already-open TCP connection, so the generator's
// own cost per request (building an http.ClientRequest, ~0.1–0.2 ms on this machine) does not
// queue the last clicks behind the first: what is timed is the server's answer. The time is to the
// first byte of the response (the status line of the ack).
function connect(url) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: hostname, port: Number(port), noDelay: true }, () => resolve(socket));
    socket.once('error', reject);
  });
}

function rawRequest(url, text, headers) {
  const { host, pathname } = new URL(url);
  const lines = [`POST ${pathname} HTTP/1.1`, `host: ${host}`, 'connection: keep-alive', `content-length: ${Buffer.byteLength(text)}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n${text}`);
}

function firstAnswer(socket, bytes) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    socket.once('data', (chunk) => {
      const elapsed = performance.now() - started;
      const status = chunk.toString('latin1', 0, 12);
      if (status.startsWith('HTTP/1.1 200')) resolve(elapsed);
      else reject(new Error(`click answered ${status}`));
    });
    socket.once('error', reject);
    socket.write(bytes);
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
  // open every connection first (Slack keeps connections to an app open), then send every click at once
  const sockets = await Promise.all(requests.map(() => connect(url)));
  const payloads = requests.map(({ text, headers }) => rawRequest(url, text, headers));
  const latencies = await Promise.all(sockets.map((socket, i) => firstAnswer(socket, payloads[i])));
  for (const socket of sockets) socket.destroy();
  parentPort.postMessage({ latencies });
});
