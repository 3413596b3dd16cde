/**
 * Joins a request body that arrived in several socket reads into one Buffer the caller reads
 * synchronously and lets go of: a body is checked and parsed within one turn of the event loop,
 * so one scratch buffer per process serves every request instead of a Buffer.concat each. A
 * concatenated body is memory outside V8's heap that lives until a scavenge collects its Buffer:
 * at c64 with 100 KB prompts, ~100 of them at once, and glibc keeps the heap they grew (bench
 * limit-100k and limit-tight left the gateway ~60 MB larger before streams-1000). Bodies above
 * `maxBytes` are concatenated as before, so the scratch never holds more than that.
 */
export class BodyScratch {
  private scratch: Buffer | undefined;

  constructor(private readonly maxBytes = 1024 * 1024) {}

  /**
   * The bytes of `chunks` (`size` in all) in one Buffer. When the body came in one chunk, that
   * chunk; otherwise a view of the scratch, valid only until the next join: read it before
   * anything else can run (no await, no callback), and keep no reference to it.
   */
  join(chunks: readonly Buffer[], size: number): Buffer {
    if (chunks.length === 1) return chunks[0]!;
    if (size > this.maxBytes) return Buffer.concat(chunks, size);
    if (this.scratch === undefined || this.scratch.length < size) {
      // Grown by doubling (64 KB at least), never past maxBytes.
      this.scratch = Buffer.allocUnsafeSlow(Math.min(this.maxBytes, Math.max(64 * 1024, size, 2 * (this.scratch?.length ?? 0))));
    }
    let at = 0;
    for (const chunk of chunks) at += chunk.copy(this.scratch, at);
    return this.scratch.subarray(0, size);
  }
}
