import { Tiktoken } from 'js-tiktoken/lite';

/**
 * Decides whether a prompt fits a model's input limit without tokenizing when it can:
 * a BPE token is at least one byte, so text of at most `limit` UTF-8 bytes has at most `limit`
 * tokens (DESIGN.md hot-path rule 5). Only a longer text is tokenized, and the tokenizer's ranks
 * (megabytes) are loaded the first time one is needed, not at start.
 */
export class InputLimit {
  private encoder?: Promise<Tiktoken>;

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

  /** Counts tokens, stopping once over the limit: the count when over it, undefined when the prompt fits. */
  async tokensOver(parts: string[], limit: number): Promise<number | undefined> {
    this.encoder ??= import('js-tiktoken/ranks/o200k_base').then((m) => new Tiktoken(m.default));
    const encoder = await this.encoder;
    let tokens = 0;
    for (const p of parts) {
      tokens += encoder.encode(p).length;
      if (tokens > limit) return tokens;
    }
    return undefined;
  }
}
