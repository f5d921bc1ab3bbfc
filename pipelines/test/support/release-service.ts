// A small service for deploy-verification tests: it serves Prometheus /metrics on 127.0.0.1 for the
// release it "runs", and simulates its traffic (20 requests every 100 ms) with the error ratio and
// latency of that release. The test switches releases (a good one, a bad one) and Prometheus, which
// scrapes it, sees the error rate rise.
import http from 'node:http';
import { closeServer, listenOnLoopback } from '../helpers.js';

export interface Release {
  version: string;
  /** Share of requests answered 500, 0..1. */
  errorRatio: number;
  /** Seconds per request. */
  latency: number;
}

export interface ReleaseService {
  /** `127.0.0.1:PORT`, a scrape target. */
  readonly hostPort: string;
  /** Serves this release from now on. */
  deploy(release: Release): void;
  /** Milliseconds (performance.now) when the current release started serving. */
  readonly deployedAt: number;
  stop(): Promise<void>;
}

export async function startReleaseService(first: Release): Promise<ReleaseService> {
  const requests = new Map<string, number>(); // `${version}\t${code}` → count
  const latencySum = new Map<string, number>();
  let release = first;
  let deployedAt = performance.now();
  let carry = 0;
  const tick = setInterval(() => {
    const errors = 20 * release.errorRatio + carry;
    const failed = Math.floor(errors);
    carry = errors - failed;
    const add = (code: string, n: number) => requests.set(`${release.version}\t${code}`, (requests.get(`${release.version}\t${code}`) ?? 0) + n);
    add('500', failed);
    add('200', 20 - failed);
    latencySum.set(release.version, (latencySum.get(release.version) ?? 0) + 20 * release.latency);
  }, 100);
  const server = http.createServer((req, res) => {
    if (req.url !== '/metrics') return void res.writeHead(404).end();
    const lines = ['# HELP demo_http_requests_total Requests served.', '# TYPE demo_http_requests_total counter'];
    for (const [key, n] of requests) {
      const [version, code] = key.split('\t');
      lines.push(`demo_http_requests_total{version="${version}",code="${code}"} ${n}`);
    }
    lines.push('# HELP demo_request_seconds_sum Time spent serving.', '# TYPE demo_request_seconds_sum counter');
    for (const [version, sum] of latencySum) lines.push(`demo_request_seconds_sum{version="${version}"} ${sum}`);
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(`${lines.join('\n')}\n`);
  });
  const url = await listenOnLoopback(server);
  return {
    hostPort: url.replace('http://', ''),
    deploy(next) {
      release = next;
      deployedAt = performance.now();
    },
    get deployedAt() {
      return deployedAt;
    },
    async stop() {
      clearInterval(tick);
      await closeServer(server);
    },
  };
}
