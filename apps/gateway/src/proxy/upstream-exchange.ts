import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';

/**
 * One call to an upstream through undici's dispatch interface, without the Readable stream and
 * async iterator that `pool.request()` builds around every answer (a measurable part of a proxy's
 * CPU per request). The answer arrives through the handler callbacks; the caller either takes it
 * whole (`whole()`) or has each chunk handed to a sink as it arrives (`streamTo()`), with
 * back-pressure: a sink that answers false pauses the upstream socket until `resume()`. Which of
 * the two is decided from the head (`streams`): a whole answer is collected as it arrives (up to
 * `maxWholeBytes`); a stream waits in the socket (paused) until `streamTo()` gives it a sink.
 */
export class UpstreamExchange implements Dispatcher.DispatchHandler {
  statusCode = 0;
  headers: IncomingHttpHeaders = {};
  private controller: Dispatcher.DispatchController | null = null;
  private abortReason: Error | null = null;
  private chunks: Buffer[] = [];
  private size = 0;
  private sink: ((chunk: Buffer) => boolean) | null = null;
  private ended = false;
  private failure: Error | null = null;
  private headWaiter: { resolve: () => void; reject: (err: Error) => void } | null = null;
  private endWaiter: { resolve: () => void; reject: (err: Error) => void } | null = null;
  private readyWaiter: { resolve: () => void; reject: (err: Error) => void } | null = null;
  /** From the head: what the caller reads next is ready then (a stream, or a redirect whose body is never read). */
  private readyAtHead = false;

  private streaming = false;
  private deadline: NodeJS.Timeout | null = null;

  constructor(
    private readonly maxWholeBytes: number,
    /** From the head: true when the body is to be streamed to a sink, false to collect it whole. */
    private readonly streams: (statusCode: number, headers: IncomingHttpHeaders) => boolean = collectedWhole, // a default expression would make a closure per exchange
  ) {}

  /**
   * Aborts the call with UpstreamDeadlineExceeded unless it has ended within `ms` (the connection's
   * total timeout: head, body and stream alike). One timer per call, cleared when the answer settles.
   */
  setDeadline(ms: number): void {
    if (this.settled) return;
    this.deadline = setTimeout(abortAtDeadline, ms, this, ms); // no closure per call
    this.deadline.unref();
  }

  private clearDeadline(): void {
    if (this.deadline !== null) {
      clearTimeout(this.deadline);
      this.deadline = null;
    }
  }

  /** Whether the body goes to a sink (`streamTo()`) rather than whole (`whole()`); known once the head is in. */
  get isStreamed(): boolean {
    return this.streaming;
  }

  /** Resolves when the status and headers are in; rejects when the call failed before that. */
  head(): Promise<void> {
    if (this.statusCode !== 0) return Promise.resolve();
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.headWaiter = { resolve, reject };
    });
  }

  /** The whole answer body, once it has ended. */
  whole(): Promise<Buffer> {
    if (this.streaming) return Promise.reject(new Error('this answer is streamed: use streamTo()'));
    return this.untilEnd().then(() => this.body);
  }

  /**
   * One wait for what the caller reads next, where head() then whole() take three promises: resolves
   * at the head for a streamed answer (`streamTo()`) or a redirect (3xx, whose body is never read),
   * and once the body has ended for an answer collected whole (`body`); rejects when the call failed
   * first, as head() or whole() would have.
   */
  ready(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.ended || (this.statusCode !== 0 && this.readyAtHead)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.readyWaiter = { resolve, reject };
    });
  }

  /** The whole answer body, once ready() (or whole()) has resolved for an answer collected whole. */
  get body(): Buffer {
    return this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.size);
  }

  /**
   * From now on every chunk goes to `sink` as it arrives (those already received first). A sink
   * that returns false pauses the upstream until `resume()`. Resolves when the answer has ended.
   */
  streamTo(sink: (chunk: Buffer) => boolean): Promise<void> {
    if (!this.streaming) return Promise.reject(new Error('this answer is collected whole: use whole()'));
    this.sink = sink;
    this.controller?.resume();
    return this.untilEnd();
  }

  private get settled(): boolean {
    return this.ended || this.failure !== null;
  }

  resume(): void {
    this.controller?.resume();
  }

  /** Pauses the upstream socket (the client is slow) until `resume()`. */
  pause(): void {
    if (!this.settled) this.controller?.pause();
  }

  /**
   * Frees the connection of an answer its caller stopped reading before the end; does nothing
   * (and builds no Error, which costs a stack trace) when the answer ended or failed.
   */
  release(): void {
    if (!this.settled) this.abort(new Error('the answer was abandoned'));
  }

  /** Stops the call (the client left); a pending `head()`, `whole()` or `streamTo()` rejects with `reason`. */
  abort(reason: Error): void {
    if (this.settled) return;
    this.clearDeadline();
    if (this.controller) this.controller.abort(reason);
    else this.abortReason = reason;
  }

  private untilEnd(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.ended) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.endWaiter = { resolve, reject };
    });
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.abortReason) controller.abort(this.abortReason);
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    this.streaming = this.streams(statusCode, headers);
    if (this.streaming) controller.pause(); // until streamTo() gives the body a sink
    this.statusCode = statusCode;
    this.headers = headers;
    this.readyAtHead = this.streaming || (statusCode >= 300 && statusCode < 400);
    const waiter = this.headWaiter;
    this.headWaiter = null;
    waiter?.resolve();
    if (this.readyAtHead) this.settleReady();
  }

  private settleReady(error?: Error): void {
    const waiter = this.readyWaiter;
    if (waiter === null) return;
    this.readyWaiter = null;
    if (error) waiter.reject(error);
    else waiter.resolve();
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.sink) {
      if (!this.sink(chunk)) controller.pause();
      return;
    }
    this.size += chunk.length;
    if (this.size > this.maxWholeBytes) {
      controller.abort(new UpstreamAnswerTooLarge(this.maxWholeBytes));
      return;
    }
    this.chunks.push(chunk);
  }

  onResponseEnd(): void {
    this.ended = true;
    this.clearDeadline();
    const waiter = this.endWaiter;
    this.endWaiter = null;
    waiter?.resolve();
    this.settleReady();
  }

  onResponseError(_controller: Dispatcher.DispatchController | null, error: Error): void {
    this.failure = error;
    this.clearDeadline();
    const head = this.headWaiter;
    const end = this.endWaiter;
    this.headWaiter = null;
    this.endWaiter = null;
    head?.reject(error);
    end?.reject(error);
    this.settleReady(error);
  }
}

function collectedWhole(): boolean {
  return false;
}

function abortAtDeadline(exchange: UpstreamExchange, ms: number): void {
  exchange.abort(new UpstreamDeadlineExceeded(ms));
}

/** An answer larger than the gateway holds in memory to read its usage. */
export class UpstreamAnswerTooLarge extends Error {
  override name = 'UpstreamAnswerTooLarge';
  constructor(limit: number) {
    super(`the upstream answer is larger than ${limit} bytes`);
  }
}

/** The call did not end within the connection's total timeout. */
export class UpstreamDeadlineExceeded extends Error {
  override name = 'UpstreamDeadlineExceeded';
  constructor(readonly timeoutMs: number) {
    super(`the upstream call did not end within ${timeoutMs} ms`);
  }
}
