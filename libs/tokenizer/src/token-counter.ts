import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

const require = createRequire(import.meta.url);
const here = fileURLToPath(import.meta.url);

/** The encodings whose ranks js-tiktoken ships and TokenCounter can count with. */
export const ENCODING_NAMES = ['o200k_base', 'cl100k_base', 'p50k_base', 'r50k_base'] as const;
export type EncodingName = (typeof ENCODING_NAMES)[number];

export interface TokenCounterOptions {
  /** Default o200k_base (the GPT-4o and later models' encoding). */
  encoding?: EncodingName;
  /** The worker stops after this long without a count; the next count starts it again (~0.1 s). */
  idleMs?: number;
}

/**
 * Counts prompt tokens on a worker thread: a long prompt takes milliseconds that must not block
 * the event loop. The worker counts with BpeCounter (a few MB) and stops after a quiet spell.
 * Only prompts that the byte-length bound cannot decide get here (DESIGN.md hot-path rule 5).
 */
export class TokenCounter {
  private worker?: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (n: number | undefined) => void; reject: (e: Error) => void; worker: Worker }>();
  private idleTimer?: NodeJS.Timeout;
  private readonly encoding: EncodingName;
  private readonly idleMs: number;

  constructor(options: TokenCounterOptions = {}) {
    this.encoding = options.encoding ?? 'o200k_base';
    this.idleMs = options.idleMs ?? 30_000;
  }

  /** The token count once it passes `limit` (counting stops there), or undefined when the parts fit. */
  countOver(parts: string[], limit: number, all = false): Promise<number | undefined> {
    const worker = this.ensureWorker();
    if (this.idleTimer) clearTimeout(this.idleTimer);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, worker });
      worker.postMessage({ id, parts, limit, all });
    });
  }

  /** The whole count of the parts (for an estimate a client asked for, such as count_tokens). */
  async count(parts: string[]): Promise<number> {
    return (await this.countOver(parts, -1, true)) ?? 0;
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
      workerData: {
        // The compiled .js beside this file, or in tests this .ts source, which Node loads by stripping its types.
        counterModule: new URL(`./bpe-counter${path.extname(here)}`, import.meta.url).href,
        ranks: require.resolve(`js-tiktoken/ranks/${this.encoding}`),
      },
    });
    worker.unref();
    worker.on('message', (m: { id: number; tokens?: number; error?: string }) => {
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (m.error) p?.reject(new Error(m.error));
      else p?.resolve(m.tokens);
      if (this.pending.size === 0) this.scheduleIdleStop();
    });
    // Only this worker's counts fail with it: a worker stopped when idle may exit after the next
    // count has already started its successor.
    worker.on('error', (err) => this.failAll(err, worker));
    worker.on('exit', () => {
      if (this.worker === worker) this.worker = undefined;
      this.failAll(new Error('token counter stopped'), worker);
    });
    this.worker = worker;
    return worker;
  }

  private scheduleIdleStop(): void {
    this.idleTimer = setTimeout(() => void this.close(), this.idleMs);
    this.idleTimer.unref();
  }

  private failAll(err: Error, worker: Worker): void {
    for (const [id, p] of this.pending) {
      if (p.worker !== worker) continue;
      this.pending.delete(id);
      p.reject(err);
    }
  }
}

// The ranks module (a 2.3 MB string for o200k_base) is dropped from require's cache once counted into the table.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const counter = import(workerData.counterModule).then(({ BpeCounter }) => {
  const built = new BpeCounter(require(workerData.ranks));
  delete require.cache[workerData.ranks];
  return built;
});
parentPort.on('message', ({ id, parts, limit, all }) => {
  counter.then((c) => {
    let tokens = 0;
    if (all) {
      for (const p of parts) tokens += c.count(p);
      return parentPort.postMessage({ id, tokens });
    }
    for (const p of parts) {
      tokens += c.countUpTo(p, limit - tokens);
      if (tokens > limit) return parentPort.postMessage({ id, tokens });
    }
    parentPort.postMessage({ id });
  }).catch((err) => parentPort.postMessage({ id, error: String((err && err.message) || err) }));
});
`;
