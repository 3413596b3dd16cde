import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

const require = createRequire(import.meta.url);

/**
 * Counts prompt tokens (o200k_base) on a worker thread: a count of a long prompt takes milliseconds
 * that must not block the event loop, and the tokenizer's ranks (~90 MB once built) are released
 * when the worker stops after a quiet spell. Only prompts the byte-length bound cannot decide get here.
 */
export class TokenCounter {
  private worker?: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (n: number | undefined) => void; reject: (e: Error) => void }>();
  private idleTimer?: NodeJS.Timeout;

  constructor(private readonly idleMs = 30_000) {}

  /** The token count once it passes `limit` (counting stops there), or undefined when the parts fit. */
  countOver(parts: string[], limit: number): Promise<number | undefined> {
    const worker = this.ensureWorker();
    if (this.idleTimer) clearTimeout(this.idleTimer);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, parts, limit });
    });
  }

  async close(): Promise<void> {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { lite: require.resolve('js-tiktoken/lite'), ranks: require.resolve('js-tiktoken/ranks/o200k_base') },
    });
    worker.unref();
    worker.on('message', (m: { id: number; tokens?: number; error?: string }) => {
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (m.error) p?.reject(new Error(m.error));
      else p?.resolve(m.tokens);
      if (this.pending.size === 0) this.scheduleIdleStop();
    });
    worker.on('error', (err) => this.failAll(err));
    worker.on('exit', () => {
      if (this.worker === worker) this.worker = undefined;
      this.failAll(new Error('token counter stopped'));
    });
    this.worker = worker;
    return worker;
  }

  private scheduleIdleStop(): void {
    this.idleTimer = setTimeout(() => void this.close(), this.idleMs);
    this.idleTimer.unref();
  }

  private failAll(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { Tiktoken } = require(workerData.lite);
const encoder = new Tiktoken(require(workerData.ranks));
parentPort.on('message', ({ id, parts, limit }) => {
  try {
    let tokens = 0;
    for (const p of parts) {
      tokens += encoder.encode(p).length;
      if (tokens > limit) return parentPort.postMessage({ id, tokens });
    }
    parentPort.postMessage({ id });
  } catch (err) {
    parentPort.postMessage({ id, error: String(err && err.message || err) });
  }
});
`;
