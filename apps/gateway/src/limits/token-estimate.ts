/**
 * A call's tokens before it is made, for a tokens-per-minute budget: the prompt at about four
 * UTF-8 bytes per token (what OpenAI's guidance and the approximate tokenizer use; no BPE on the
 * request path, DESIGN.md hot-path rule 5) plus the output the request allows. The budget settles
 * with the provider's real count after the call, so the estimate only decides admission.
 */
export function estimateCallTokens(promptParts: readonly string[], maxOutput: unknown): number {
  let bytes = 0;
  for (const part of promptParts) bytes += Buffer.byteLength(part, 'utf8');
  const output = typeof maxOutput === 'number' && Number.isFinite(maxOutput) && maxOutput > 0 ? Math.floor(maxOutput) : 0;
  return Math.ceil(bytes / 4) + output;
}
