// The HTTP receiver for Slack's requests, built from Bolt's own HTTP functions (body buffering and
// limit, ssl_check / url_verification answers, HTTPResponseAck) as Bolt's HTTPReceiver is, with two
// changes: when the answer to a request can only be an empty 200, it is written as soon as the
// signature checks out and the app's listeners run after; and the body is parsed once and the
// signature compared with crypto.timingSafeEqual (HTTPReceiver parses a form body twice and
// compares through tsscmp's double HMAC: together a third of its time per click).
//
// Why: the app runs on one event loop. With HTTPReceiver the ack leaves only once Bolt's
// middleware chain has reached the listener's `ack()`, about 0.25 ms of work per click here, so in
// a burst of 200 clicks the last one waited for all the others: p99 ~60 ms for an empty 200. Slack
// ignores the body of a block_actions or Events API ack (anything the listener has to say goes
// through the Web API), so nothing is lost by sending it first; the listener's own `ack()` becomes
// a no-op. Requests whose ack may carry a body — view submissions (`response_action`), slash
// commands, options requests, legacy interactive messages — are answered by the listener as
// before. The listeners of early-acked requests start once requests pause (see #defer), so a
// burst is answered before its database work begins.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseQuery } from 'node:querystring';
import { HTTPModuleFunctions as http, HTTPResponseAck, type App, type BufferedIncomingMessage, type Logger, type Receiver, type ReceiverEvent } from '@slack/bolt';

/** How far a request's timestamp may be from now, as Slack documents (replayed requests are refused). */
const maxSkewSeconds = 5 * 60;

/**
 * Slack's request signing (v0): HMAC-SHA256 of `v0:<timestamp>:<body>` with the signing secret,
 * compared in constant time. Returns why a request is refused, or undefined when it is genuine.
 */
export function verifySignature(secret: string, req: IncomingMessage, body: string, nowMs: number): string | undefined {
  const timestamp = req.headers['x-slack-request-timestamp'];
  const signature = req.headers['x-slack-signature'];
  if (typeof timestamp !== 'string' || !/^\d{1,12}$/.test(timestamp)) return 'x-slack-request-timestamp is missing or not a number';
  if (typeof signature !== 'string' || !signature.startsWith('v0=')) return 'x-slack-signature is missing or not a v0 signature';
  if (Math.abs(Math.floor(nowMs / 1000) - Number(timestamp)) > maxSkewSeconds) return `x-slack-request-timestamp is more than ${maxSkewSeconds / 60} minutes from now (a stale or replayed request)`;
  const expected = Buffer.from(`v0=${createHmac('sha256', secret).update(`v0:${timestamp}:`).update(body).digest('hex')}`);
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected) ? undefined : 'signature mismatch';
}

/** Payload types whose ack Slack reads as "received" only, whatever its body. */
const emptyAckTypes = new Set(['block_actions', 'event_callback', 'view_closed', 'shortcut', 'message_action']);

export interface SlackEventsReceiverOptions {
  signingSecret: string;
  logger: Logger;
  /** Bytes; Bolt's default when absent. */
  bodyLimit?: number;
  /** Listener work after an early ack waits for this long a pause in requests. Default 10 ms. */
  quietMs?: number;
  /** …but never longer than this after the first waiting one. Default 100 ms. */
  maxDelayMs?: number;
}

export class SlackEventsReceiver implements Receiver {
  #app: App | undefined;
  readonly #options: SlackEventsReceiverOptions;

  constructor(options: SlackEventsReceiverOptions) {
    this.#options = options;
  }

  init(app: App): void {
    this.#app = app;
  }

  // the app's own HTTP server calls requestListener; nothing to start or stop here
  start(): Promise<void> {
    return Promise.resolve();
  }

  stop(): Promise<void> {
    return this.settle();
  }

  // Listener work of acked requests waits until no new request has come for `quietMs` (a burst
  // is over), but never longer than `maxDelayMs` after the oldest one, so acks are written first.
  readonly #queue: ReceiverEvent[] = [];
  #oldest = 0;
  #timer: NodeJS.Timeout | undefined;

  #defer(event: ReceiverEvent): void {
    const { quietMs = 10, maxDelayMs = 100 } = this.#options;
    const now = performance.now();
    if (!this.#queue.length) this.#oldest = now;
    this.#queue.push(event);
    const wait = Math.max(0, Math.min(quietMs, maxDelayMs - (now - this.#oldest)));
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#drain(), wait);
  }

  readonly #running = new Set<Promise<void>>();

  #drain(): void {
    this.#timer = undefined;
    const app = this.#app!;
    for (const event of this.#queue.splice(0)) {
      const run: Promise<void> = app
        .processEvent(event)
        .catch((error: unknown) => this.#options.logger.error(`An unhandled error occurred while Bolt processed an event: ${(error as Error).message}`))
        .finally(() => this.#running.delete(run));
      this.#running.add(run);
    }
  }

  /**
   * Shutdown: starts what is still queued at once and resolves when every acked request's
   * listeners have finished, so none is dropped after Slack was told it arrived.
   */
  async settle(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#queue.length) this.#drain();
    // bounded: each round waits for the listeners running now; what they start is not queued here
    for (let round = 0; round < 10 && this.#running.size; round += 1) await Promise.all([...this.#running]);
  }

  /** Handles one POST to the events URL (`/slack/events`). */
  requestListener = (req: IncomingMessage, res: ServerResponse): void => {
    void this.#handle(req, res);
  };

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { logger } = this.#options;
    if (req.method !== 'POST') {
      // as HTTPReceiver's default dispatch error handler answers anything but a POST to its endpoint
      http.buildNoBodyResponse(res, 404);
      return;
    }
    let buffered: BufferedIncomingMessage;
    try {
      buffered = await http.bufferIncomingMessage(req, this.#options.bodyLimit ?? http.defaultBodyLimit);
    } catch (error) {
      if (http.isRawBodyError(error) && (error.type === 'entity.too.large' || error.statusCode === 413)) {
        logger.warn(`Request body exceeded the maximum allowed size (limit: ${error.limit} bytes)`);
        http.buildNoBodyResponse(res, 413);
        return;
      }
      logger.warn(`Failed to read the request body: ${(error as Error).message}`);
      http.buildNoBodyResponse(res, 400);
      return;
    }
    const text = buffered.rawBody.toString();
    const form = req.headers['content-type'] === 'application/x-www-form-urlencoded' ? parseQuery(text) : undefined;
    // Slack's ssl_check carries no signature; nothing else of such a request is looked at
    if (form?.ssl_check === '1') return http.buildSSLCheckResponse(res);
    const refusal = verifySignature(this.#options.signingSecret, req, text, Date.now());
    if (refusal) {
      logger.warn(`Failed to verify authenticity: ${refusal}`);
      http.buildNoBodyResponse(res, 401);
      return;
    }
    let body: Record<string, unknown>;
    try {
      body = form ? (typeof form.payload === 'string' ? (JSON.parse(form.payload) as Record<string, unknown>) : form) : (JSON.parse(text) as Record<string, unknown>);
    } catch (error) {
      logger.warn(`Malformed request body: ${(error as Error).message}`);
      http.buildNoBodyResponse(res, 400);
      return;
    }
    if (body.type === 'url_verification') return http.buildUrlVerificationResponse(res, body);

    const app = this.#app;
    if (!app) {
      http.buildNoBodyResponse(res, 503);
      return;
    }
    const retry = { retryNum: http.extractRetryNumFromHTTPRequest(req), retryReason: http.extractRetryReasonFromHTTPRequest(req) };
    if (typeof body.type === 'string' && emptyAckTypes.has(body.type)) {
      http.buildNoBodyResponse(res, 200);
      this.#defer({ body, ack: () => Promise.resolve(), ...retry, customProperties: {} });
      return;
    }

    const ack = new HTTPResponseAck({ logger, processBeforeResponse: false, httpRequest: buffered, httpRequestBody: body, httpResponse: res });
    try {
      await app.processEvent({ body, ack: ack.bind(), ...retry, customProperties: {} });
    } catch (error) {
      const acknowledged = await http.defaultProcessEventErrorHandler({ error: error as Error, logger, request: req, response: res, storedResponse: ack.storedResponse });
      if (acknowledged) ack.ack();
    }
  }
}
