/** What InputLimit needs of a tokenizer (TokenCounter, #libs/tokenizer): the exact count of the parts. */
export interface PromptTokenizer {
  count(parts: string[]): Promise<number>;
}

/**
 * Decides whether a prompt fits a model's input limit without tokenizing when it can:
 * a BPE token is at least one byte, so text of at most `limit` UTF-8 bytes has at most `limit`
 * tokens (DESIGN.md hot-path rule 5). Only a longer text is tokenized (TokenCounter, #libs/tokenizer).
 */
export class InputLimit {
  /** Text the tokenizer would see: every string content part of the messages. */
  static promptText(messages: unknown): string[] {
    const parts: string[] = [];
    if (!Array.isArray(messages)) return parts;
    for (const m of messages as { content?: unknown }[]) {
      const content = m?.content;
      if (typeof content === 'string') parts.push(content);
      else if (Array.isArray(content)) {
        for (const p of content as { type?: unknown; text?: unknown }[]) if (typeof p?.text === 'string') parts.push(p.text);
      }
    }
    return parts;
  }

  /** True when the byte length alone proves the prompt fits. */
  static fitsByBytes(parts: string[], limit: number): boolean {
    let bytes = 0;
    for (const p of parts) {
      bytes += Buffer.byteLength(p, 'utf8');
      if (bytes > limit) return false;
    }
    return true;
  }

  /**
   * The exact token count of a prompt over `limit` (002's `measured`), or undefined when it fits.
   * Synchronous undefined when the byte length proves it fits: the tokenizer is not called then.
   */
  static measureOver(parts: string[], limit: number, tokenizer: PromptTokenizer): undefined | Promise<number | undefined> {
    if (InputLimit.fitsByBytes(parts, limit)) return undefined;
    return tokenizer.count(parts).then((tokens) => (tokens > limit ? tokens : undefined));
  }
}
