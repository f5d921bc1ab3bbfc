// A stand-in SonarQube server on 127.0.0.1 that answers the two Web API calls the gate makes with
// the JSON the Web API documents (api/ce/task, api/qualitygates/project_status). Each task id and
// analysis id has a queue of answers; the last one repeats. Requests are recorded for assertions.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeAnswer {
  status?: number;
  body?: unknown;
  /** Answer after this long (a slow server). */
  delayMs?: number;
}

export interface FakeSonar {
  url: string;
  /** `ceTaskId` → answers to api/ce/task?id=. */
  tasks: Map<string, FakeAnswer[]>;
  /** `analysisId` → answers to api/qualitygates/project_status?analysisId=. */
  statuses: Map<string, FakeAnswer[]>;
  requests: Array<{ path: string; params: Record<string, string>; authorization: string | undefined }>;
  close(): Promise<void>;
}

/** The documented api/ce/task answer. */
export function ceTask(id: string, status: string, extra: Record<string, unknown> = {}): FakeAnswer {
  return {
    body: {
      task: {
        organization: 'default-organization',
        id,
        type: 'REPORT',
        componentId: 'AZA1b2c3d4e5f6g7h8i9',
        componentKey: 'orders-service',
        componentName: 'orders-service',
        componentQualifier: 'TRK',
        status,
        submittedAt: '2026-11-30T10:15:02+0000',
        ...(status === 'PENDING' ? {} : { startedAt: '2026-11-30T10:15:03+0000' }),
        ...(status === 'SUCCESS' || status === 'FAILED' ? { executedAt: '2026-11-30T10:15:09+0000', executionTimeMs: 5286, analysisId: `analysis-${id}` } : {}),
        logs: false,
        hasScannerContext: true,
        warningCount: 0,
        warnings: [],
        ...extra,
      },
    },
  };
}

/** The documented api/qualitygates/project_status answer. */
export function projectStatus(status: 'OK' | 'ERROR' | 'WARN' | 'NONE', conditions: Array<[metric: string, comparator: string, threshold: string, actual: string, status: string]>): FakeAnswer {
  return {
    body: {
      projectStatus: {
        status,
        ignoredConditions: false,
        caycStatus: 'compliant',
        conditions: conditions.map(([metricKey, comparator, errorThreshold, actualValue, s]) => ({ status: s, metricKey, comparator, periodIndex: 1, errorThreshold, actualValue })),
        periods: [{ index: 1, mode: 'PREVIOUS_VERSION', date: '2026-11-01T09:00:00+0000' }],
      },
    },
  };
}

export const sonarError = (status: number, msg: string): FakeAnswer => ({ status, body: { errors: [{ msg }] } });

export async function startFakeSonar(options: { token?: string } = {}): Promise<FakeSonar> {
  const tasks = new Map<string, FakeAnswer[]>();
  const statuses = new Map<string, FakeAnswer[]>();
  const requests: FakeSonar['requests'] = [];
  const timers = new Set<NodeJS.Timeout>();
  const next = (queue: FakeAnswer[] | undefined): FakeAnswer | undefined => (queue && queue.length > 1 ? queue.shift() : queue?.[0]);
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const params = Object.fromEntries(url.searchParams);
    requests.push({ path: url.pathname, params, authorization: req.headers.authorization });
    let answer: FakeAnswer | undefined;
    // public on a real server too: scanners ask it before anything else
    if (url.pathname.endsWith('/api/server/version')) {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('10.7.0.96327');
      return;
    }
    if (options.token !== undefined && req.headers.authorization !== `Bearer ${options.token}`) answer = { status: 401, body: '' };
    else if (url.pathname.endsWith('/api/ce/task')) answer = next(tasks.get(params.id ?? '')) ?? sonarError(404, `No activity found for task '${params.id}'`);
    else if (url.pathname.endsWith('/api/qualitygates/project_status')) answer = next(statuses.get(params.analysisId ?? '')) ?? sonarError(404, `Analysis with id '${params.analysisId}' is not found`);
    else answer = sonarError(404, 'Unknown url');
    const send = () => {
      const body = typeof answer!.body === 'string' ? answer!.body : JSON.stringify(answer!.body);
      res.writeHead(answer!.status ?? 200, { 'content-type': 'application/json' }).end(body);
    };
    if (answer.delayMs) {
      const timer = setTimeout(() => (timers.delete(timer), send()), answer.delayMs);
      timers.add(timer);
    } else send();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    tasks,
    statuses,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t);
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
