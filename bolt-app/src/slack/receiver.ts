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
//
// Durable acks: with an inbox, a click or a modal submission is written to it (one commit for all
// the requests read in the same turn of the event loop) before its ack, and marked done once its
// listeners ran. A crash after the ack loses nothing: the app replays what is still open at start.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseQuery } from 'node:querystring';
import { HTTPModuleFunctions as http, HTTPResponseAck, type App, type BufferedIncomingMessage, type Logger, type Receiver, type ReceiverEvent } from '@slack/bolt';
import type { RequestInbox } from '../store/inbox.js';

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

/** Payload types that can decide something (a click, a modal submission): written to the inbox before their ack. */
const durableTypes = new Set(['block_actions', 'view_submission']);

/** Where acknowledged requests are kept until their listeners have run. */
export type { RequestInbox } from '../store/inbox.js';

export interface SlackEventsReceiverOptions {
  signingSecret: string;
  logger: Logger;
  /** Bytes; Bolt's default when absent. */
  bodyLimit?: number;
  /** Listener work after an early ack waits for this long a pause in requests. Default 10 ms. */
  quietMs?: number;
  /** …but never longer than this after the first waiting one. Default 100 ms. */
  maxDelayMs?: number;
  /** Durable acks: clicks and submissions are written here before Slack is told they arrived. */
  inbox?: RequestInbox;
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
  readonly #queue: Array<{ event: ReceiverEvent; inboxId: number | undefined }> = [];
  #oldest = 0;
  #timer: NodeJS.Timeout | undefined;

  #defer(event: ReceiverEvent, inboxId: number | undefined): void {
    const { quietMs = 10, maxDelayMs = 100 } = this.#options;
    const now = performance.now();
    if (!this.#queue.length) this.#oldest = now;
    this.#queue.push({ event, inboxId });
    const wait = Math.max(0, Math.min(quietMs, maxDelayMs - (now - this.#oldest)));
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#drain(), wait);
  }

  readonly #running = new Set<Promise<void>>();

  #drain(): void {
    this.#timer = undefined;
    // acks still waiting for their inbox write come first: listener work would compete with them
    const { maxDelayMs = 100 } = this.#options;
    if ((this.#toRecord.length || this.#recording) && performance.now() - this.#oldest < maxDelayMs) {
      this.#timer = setTimeout(() => this.#drain(), 1);
      return;
    }
    const app = this.#app!;
    for (const { event, inboxId } of this.#queue.splice(0)) this.#track(this.#process(app, event, inboxId));
  }

  #track(run: Promise<void>): void {
    const tracked: Promise<void> = run.finally(() => this.#running.delete(tracked));
    this.#running.add(tracked);
  }

  /** Runs a request's listeners, then marks its inbox row done. */
  async #process(app: App, event: ReceiverEvent, inboxId: number | undefined): Promise<void> {
    await app.processEvent(event).catch((error: unknown) => this.#options.logger.error(`An unhandled error occurred while Bolt processed an event: ${(error as Error).message}`));
    if (inboxId !== undefined) this.#finish(inboxId);
  }

  // ---- the inbox: requests read in the same turn of the event loop are written in one commit

  #toRecord: Array<{ body: Record<string, unknown>; resolve: (id: number) => void; reject: (error: unknown) => void }> = [];
  /** Batches being written now: at most two at once (the database inbox has two connections of its own). */
  #recording = 0;
  #toFinish: number[] = [];
  #finishing: Promise<void> | undefined;

  #record(body: Record<string, unknown>): number | Promise<number> {
    // Slack's legacy verification token is not kept
    const { token: _legacy, ...kept } = body;
    const inbox = this.#options.inbox!;
    if (inbox.recordNow) return inbox.recordNow(kept);
    return new Promise((resolve, reject) => {
      this.#toRecord.push({ body: kept, resolve, reject });
      if (this.#toRecord.length === 1 && this.#recording < 2) setImmediate(() => void this.#flushRecords());
    });
  }

  async #flushRecords(): Promise<void> {
    const batch = this.#toRecord.splice(0);
    if (!batch.length) return;
    this.#recording += 1;
    try {
      const ids = await this.#options.inbox!.record(batch.map((b) => b.body));
      batch.forEach((b, i) => b.resolve(ids[i]!));
    } catch (error) {
      for (const b of batch) b.reject(error);
    } finally {
      this.#recording -= 1;
      // what arrived while this batch was written goes in the next commit
      if (this.#toRecord.length) setImmediate(() => void this.#flushRecords());
    }
  }

  #finish(id: number): void {
    this.#toFinish.push(id);
    this.#finishing ??= new Promise<void>((resolve) => setImmediate(resolve)).then(async () => {
      const ids = this.#toFinish.splice(0);
      this.#finishing = undefined;
      // a failure leaves the rows open: they are replayed once their lease lapses (the listeners' work is idempotent)
      await this.#options.inbox!.finished(ids).catch((error: unknown) => this.#options.logger.warn(`could not mark ${ids.length} Slack requests done: ${(error as Error).message}`));
    });
    this.#track(this.#finishing);
  }

  /**
   * Runs requests taken back from the inbox (their process died after the ack, before their
   * listeners finished), in the order they arrived. Their ack is long gone: it is a no-op now.
   */
  async replay(requests: ReadonlyArray<{ id: number; body: Record<string, unknown> }>): Promise<void> {
    const app = this.#app!;
    for (const { id, body } of requests) await this.#process(app, { body, ack: () => Promise.resolve(), customProperties: { replayed: true } }, id);
    await this.settle();
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
    let inboxId: number | undefined;
    if (this.#options.inbox && typeof body.type === 'string' && durableTypes.has(body.type)) {
      try {
        const recorded = this.#record(body);
        inboxId = typeof recorded === 'number' ? recorded : await recorded;
      } catch (error) {
        // not written, so not acknowledged: Slack shows the user that it did not go through
        logger.error(`Could not record a Slack request before its ack: ${(error as Error).message}`);
        http.buildNoBodyResponse(res, 503);
        return;
      }
    }
    if (typeof body.type === 'string' && emptyAckTypes.has(body.type)) {
      http.buildNoBodyResponse(res, 200);
      this.#defer({ body, ack: () => Promise.resolve(), ...retry, customProperties: {} }, inboxId);
      return;
    }

    const ack = new HTTPResponseAck({ logger, processBeforeResponse: false, httpRequest: buffered, httpRequestBody: body, httpResponse: res });
    try {
      await app.processEvent({ body, ack: ack.bind(), ...retry, customProperties: {} });
    } catch (error) {
      const acknowledged = await http.defaultProcessEventErrorHandler({ error: error as Error, logger, request: req, response: res, storedResponse: ack.storedResponse });
      if (acknowledged) ack.ack();
    }
    if (inboxId !== undefined) this.#finish(inboxId);
  }
}
