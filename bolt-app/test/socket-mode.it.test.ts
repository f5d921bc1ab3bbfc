// Socket Mode: the app opens its connection with apps.connections.open (app token), then a
// loopback WebSocket speaking Slack's envelope format sends a block_actions click; the app acks
// the envelope and decides, exactly as over HTTP. The pipelines API is served all the same.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import { createShipgateApp, type ShipgateApp } from '../src/app.js';
import type { Store } from '../src/store/store.js';
import { api, apiToken, approvalBody, blockActions, botToken, memoryStore, slackStandIn, testConfig, users, waitFor, type SlackStandIn } from './helpers.js';

const appToken = 'xapp-1-A0APP00001-test-0123456789';

describe('Socket Mode', () => {
  let wss: WebSocketServer;
  let socket: WebSocket | undefined;
  const received: any[] = [];
  let slack: SlackStandIn;
  let store: Store;
  let app: ShipgateApp;

  beforeAll(async () => {
    wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((r) => wss.once('listening', () => r()));
    wss.on('connection', (ws) => {
      socket = ws;
      ws.on('message', (data) => received.push(JSON.parse(data.toString())));
      ws.send(JSON.stringify({ type: 'hello', num_connections: 1, debug_info: { host: 'applink-test', approximate_connection_time: 18060 }, connection_info: { app_id: 'A0APP00001' } }));
    });
    slack = await slackStandIn({ socketUrl: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/link/?ticket=t1&app_id=A0APP00001` });
    store = await memoryStore();
    app = await createShipgateApp({ config: testConfig, slack: { botToken, appToken, apiUrl: slack.apiUrl }, apiToken, store, port: 0, host: '127.0.0.1', logger: pino({ level: 'silent' }), outbox: { pollMs: 50 }, watchConfig: false });
    await app.start();
  });

  afterAll(async () => {
    await app?.stop();
    await store?.close();
    for (const c of wss?.clients ?? []) c.terminate();
    await new Promise((r) => wss?.close(r));
    await slack?.close();
  });

  it('connects with the app token, acks an interactive envelope and approves', async () => {
    const open = slack.of('apps.connections.open');
    expect(open).toHaveLength(1);
    expect(open[0]!.token).toBe(appToken);
    await waitFor(() => socket, 'the WebSocket connection');

    const res = await api(app.url, 'POST', '/api/approvals', approvalBody());
    expect(res.status).toBe(201);
    const id = res.body.id as string;
    await waitFor(async () => (await store.approvals.get(id))?.messageTs, 'the approval message');

    const payload = JSON.parse(blockActions({ user: users.ada, actionId: 'shipgate_approve', value: id }).payload!);
    socket!.send(JSON.stringify({ envelope_id: 'env-1', payload, type: 'interactive', accepts_response_payload: false }));
    const ack = await waitFor(() => received.find((m) => m.envelope_id === 'env-1'), 'the envelope ack');
    expect(ack).toEqual({ envelope_id: 'env-1', payload: {} });
    expect((await api(app.url, 'GET', `/api/approvals/${id}?wait=5`)).body).toMatchObject({ state: 'approved', decidedBy: users.ada });
    expect((await fetch(`${app.url}/slack/events`, { method: 'POST' })).status).toBe(404);
    expect(await (await fetch(`${app.url}/healthz`)).json()).toMatchObject({ mode: 'socket' });
  });
});
