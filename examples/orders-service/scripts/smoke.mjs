// Smoke test of the built API bundle: start dist/api.js on a free loopback port, create and read an
// order over HTTP, stop it. Bounded: gives up after 10 s.
import { spawn } from 'node:child_process';

const child = spawn(process.execPath, ['dist/api.js'], { env: { ...process.env, PORT: '0', HOST: '127.0.0.1' }, stdio: ['ignore', 'pipe', 'inherit'] });
const deadline = setTimeout(() => fail('the API did not start within 10 s'), 10_000);

function fail(message) {
  console.error(`smoke: ${message}`);
  child.kill('SIGKILL');
  process.exit(1);
}

const { url: base, store } = await new Promise((resolve) => {
  let text = '';
  child.stdout.on('data', (chunk) => {
    text += chunk;
    const match = /listening on (http:\/\/\S+) \((\S+) store\)/.exec(text);
    if (match) resolve({ url: match[1], store: match[2] });
  });
  child.on('exit', (code) => fail(`the API exited early with code ${code}`));
});

try {
  const health = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(5000) });
  if (health.status !== 200) fail(`/healthz answered ${health.status}`);
  const created = await fetch(`${base}/orders`, {
    method: 'POST',
    body: JSON.stringify({ customer: 'smoke', lines: [{ sku: 'SMOKE-1', quantity: 1, unitPrice: 100 }] }),
    signal: AbortSignal.timeout(5000),
  });
  const order = await created.json();
  if (created.status !== 201 || order.total !== 120) fail(`POST /orders answered ${created.status} ${JSON.stringify(order)}`);
  const read = await fetch(`${base}/orders/${order.id}`, { signal: AbortSignal.timeout(5000) });
  if (read.status !== 200) fail(`GET /orders/${order.id} answered ${read.status}`);
  console.log(`smoke: ok (${base}, ${store} store)`);
} catch (error) {
  fail(error.message);
} finally {
  clearTimeout(deadline);
  child.removeAllListeners('exit');
  child.kill('SIGTERM');
}
