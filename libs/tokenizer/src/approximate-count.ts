/** UTF-8 bytes per token the approximation assumes: English prose in current BPE vocabularies averages about four. */
export const APPROXIMATE_BYTES_PER_TOKEN = 4;

/**
 * The token count of the `approximate` tokenizer (model definitions of models without a public
 * tokenizer): one token per four UTF-8 bytes, rounded up, per part. An estimate, and every count
 * made with it must say so (the definition's view says `"tokenCount": "approximate"`). Linear in
 * the text, no allocation of its bytes.
 */
export function approximateTokenCount(parts: readonly string[]): number {
  let tokens = 0;
  for (const part of parts) tokens += Math.ceil(Buffer.byteLength(part, 'utf8') / APPROXIMATE_BYTES_PER_TOKEN);
  return tokens;
}
