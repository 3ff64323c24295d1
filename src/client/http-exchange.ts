import type { Dispatcher } from 'undici';

/** What came back for one request: an HTTP answer, or the error that ended it (network, deadline). */
export type Exchange =
  | {
      readonly ok: true;
      readonly status: number;
      /** The body as text, cut at `MAX_BODY_BYTES`. */
      readonly body: string;
      readonly retryAfter: string | undefined;
      readonly location: string | undefined;
    }
  | { readonly ok: false; readonly error: unknown; readonly isTimeout: boolean };

/** Enough for any documented body; a runaway proxy page is cut here rather than filling memory. */
export const MAX_BODY_BYTES = 64 * 1024;

const header = (value: string | string[] | undefined): string | undefined => (Array.isArray(value) ? value[0] : value);

/**
 * Collects one response as undici delivers it. This, rather than undici's `request()`, because at
 * thousands of requests a second `request()`'s per-response Readable stream, AsyncResource and abort
 * listener showed in the profile (BENCHMARKS.md), and these answers are small and read whole.
 */
class AnswerCollector implements Dispatcher.DispatchHandler {
  readonly startedAt = performance.now();
  #controller: Dispatcher.DispatchController | undefined;
  #isTimedOut = false;
  #status = 0;
  #retryAfter: string | undefined;
  #location: string | undefined;
  #chunks: Buffer[] = [];
  #bytes = 0;
  readonly #settle: (exchange: Exchange) => void;

  constructor(settle: (exchange: Exchange) => void) {
    this.#settle = settle;
  }

  /** The deadline passed: end the request (now, or as soon as it gets a connection). */
  expire(): void {
    this.#isTimedOut = true;
    this.#controller?.abort(new Error('the attempt deadline passed'));
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    if (this.#isTimedOut) controller.abort(new Error('the attempt deadline passed'));
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
  ): void {
    if (statusCode < 200) return; // 1xx: the real answer follows
    this.#status = statusCode;
    this.#retryAfter = header(headers['retry-after']);
    this.#location = header(headers['location']);
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    // Read to the end even past the cut, so that the connection stays usable for the next request.
    if (this.#bytes >= MAX_BODY_BYTES) return;
    this.#chunks.push(
      chunk.length + this.#bytes > MAX_BODY_BYTES ? chunk.subarray(0, MAX_BODY_BYTES - this.#bytes) : chunk,
    );
    this.#bytes += chunk.length;
  }

  onResponseEnd(): void {
    const chunks = this.#chunks;
    // Decoded once at the end, so a character split across two chunks comes out whole.
    const body = chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8');
    this.#settle({ ok: true, status: this.#status, body, retryAfter: this.#retryAfter, location: this.#location });
  }

  onResponseError(_controller: Dispatcher.DispatchController | undefined, error: Error): void {
    this.#settle({ ok: false, error, isTimeout: this.#isTimedOut });
  }
}

/**
 * Sends requests over one undici dispatcher, each with a deadline for the whole exchange (headers and
 * body together; undici's own timeouts only bound the gaps). One sweep timer serves every request in
 * flight instead of a timer and an abort signal per request: an attempt is ended between `timeoutMs`
 * and `timeoutMs` plus one sweep interval (a tenth of it, between 5 ms and 1 s) after it started.
 */
export class HttpExchanger {
  readonly #http: Dispatcher;
  readonly #timeoutMs: number;
  readonly #inFlight = new Set<AnswerCollector>();
  readonly #sweeper: NodeJS.Timeout;

  constructor(http: Dispatcher, timeoutMs: number) {
    this.#http = http;
    this.#timeoutMs = timeoutMs;
    this.#sweeper = setInterval(() => this.#sweep(), Math.min(1000, Math.max(5, timeoutMs / 10)));
    this.#sweeper.unref(); // never what keeps the process alive
  }

  #sweep(): void {
    const expiredBefore = performance.now() - this.#timeoutMs;
    for (const collector of this.#inFlight) {
      if (collector.startedAt <= expiredBefore) {
        this.#inFlight.delete(collector);
        collector.expire();
      }
    }
  }

  /** One request; never rejects: network failures and the deadline come back as `ok: false`. */
  send(options: Dispatcher.DispatchOptions): Promise<Exchange> {
    return new Promise((resolve) => {
      const collector = new AnswerCollector((exchange) => {
        this.#inFlight.delete(collector);
        resolve(exchange);
      });
      this.#inFlight.add(collector);
      try {
        this.#http.dispatch(options, collector);
      } catch (error) {
        // A closed or destroyed dispatcher throws instead of calling the handler.
        this.#inFlight.delete(collector);
        resolve({ ok: false, error, isTimeout: false });
      }
    });
  }

  async close(): Promise<void> {
    clearInterval(this.#sweeper);
    await this.#http.close();
  }
}
