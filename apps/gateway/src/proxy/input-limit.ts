import type { TokenCount } from '#libs/tokenizer';

/** What InputLimit needs of a tokenizer (TokenCounters, #libs/tokenizer, with the model's tokenizer): the count of the parts and how it was made. */
export type PromptTokenizer = (parts: string[]) => Promise<TokenCount>;

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
   * The token count of a prompt over `limit` (002's `measured`), or undefined when it fits.
   * Synchronous undefined when the byte length proves it fits: the tokenizer is not called then
   * (this holds for the approximation too, at four bytes per token).
   */
  static measureOver(parts: string[], limit: number, count: PromptTokenizer): undefined | Promise<TokenCount | undefined> {
    if (InputLimit.fitsByBytes(parts, limit)) return undefined;
    return count(parts).then((measured) => (measured.tokens > limit ? measured : undefined));
  }
}
